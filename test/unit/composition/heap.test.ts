import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as heap from '../../../shared/composition/heap';
import { createGcpRuntime } from '../../../shared/composition/gcp';
import { createLocalRuntime } from '../../../shared/composition/local';
import type { GcpConfig } from '../../../shared/config';
import { loadConfig } from '../../../shared/config';
import { REPO_ROOT, buildFunctions } from '../../support/functions-host';

/**
 * V8's heap growing factor as a function instance runs it: a heap limit of 512 MiB (V8 sizes a 1 GiB instance's
 * below that), with and without the tuning, in processes of their own (the flag applies to a whole process). V8
 * reports each limit it sets, with its factor, under --trace-gc-verbose.
 */

const HEAP_MODULE = path.join(REPO_ROOT, 'dist', 'shared', 'composition', 'heap.js');

/** Old objects kept and dropped, so that V8 runs full collections and sets new limits. */
const CHURN = `
const keep = [];
for (let i = 0; i < 300; i += 1) {
  keep.push(new Array(100000).fill(i));
  if (keep.length > 40) keep.shift();
}`;

async function limitFactors(tune: boolean): Promise<number[]> {
  const script = `${tune ? `require(${JSON.stringify(HEAP_MODULE)}).tuneHeapGrowing();` : ''}${CHURN}`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-old-space-size=512', '--trace-gc-verbose', '-e', script],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  // "[HeapController] Limit: old size: 157293 KB, new limit: 340790 KB (4.0)"
  return [...stdout.matchAll(/\[HeapController\] Limit: .*\(([0-9.]+)\)/g)].map((m) => Number(m[1]));
}

describe('heap growing factor', () => {
  beforeAll(() => buildFunctions(), 180_000);

  it('is 3 on a function-sized heap once tuned, where V8 alone caps it below 1.5', async () => {
    const [untuned, tuned] = await Promise.all([limitFactors(false), limitFactors(true)]);
    expect(untuned.length).toBeGreaterThan(0);
    expect(Math.max(...untuned)).toBeLessThan(1.5);
    expect(tuned.length).toBeGreaterThan(0);
    expect(new Set(tuned)).toEqual(new Set([1 + heap.HEAP_GROWING_PERCENT / 100]));
  }, 60_000);

  it('is set by each composition root when an instance starts', async () => {
    const tune = jest.spyOn(heap, 'tuneHeapGrowing');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'heap-'));
    try {
      const local = await createLocalRuntime({ config: loadConfig({ LOG_LEVEL: 'error' }), dataDir });
      expect(tune).toHaveBeenCalledTimes(1);
      await local.close();
      // Clients only: nothing is reached before the first call.
      const config = loadConfig({
        GCS_EXPORT_ADAPTERS: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'heap-test',
        GCS_EXPORT_KEK: randomBytes(32).toString('base64'),
        QUARANTINE_BUCKET: 'platform-quarantine',
        SOURCE_PREFIX_TEMPLATE: 'gs://platform-source/',
        LOG_LEVEL: 'silent',
      });
      const gcp = createGcpRuntime(config, config.gcp as GcpConfig);
      expect(tune).toHaveBeenCalledTimes(2);
      await gcp.close();
    } finally {
      tune.mockRestore();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

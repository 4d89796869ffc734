import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { generateDemoSource } from '../demo-data';
import { runRequestLocally } from '../run-local';
import { registerDestination } from '../../domain/destinations';
import { parseExportRequest } from '../../domain/request';
import { createLocalRuntime } from '../../composition/local';
import { loadConfig } from '../../config';
import { positiveInt } from './demo';

const MiB = 1024 * 1024;
const AVERAGE_LINE_BYTES = 360;

interface MemoryFigures {
  sourceMiB: number;
  records: number;
  files: number;
  seconds: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  peakExternalMiB: number;
}

/** One chunk holding the whole source, with memory sampled while it is written. */
async function measureOneChunk(sourceMiB: number): Promise<MemoryFigures> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gcs-export-bench-'));
  try {
    const config = loadConfig({ LOG_LEVEL: 'error' });
    config.settings = { ...config.settings, chunkTargetBytes: 64 * 1024 * MiB };
    const runtime = await createLocalRuntime({ config, dataDir });
    await runtime.buckets.createBucket('bench-source');
    await runtime.buckets.createBucket('bench-destination');
    const from = new Date('2026-01-01T00:00:00Z');
    const generated = await generateDemoSource({
      dir: path.join(runtime.buckets.root, 'bench-source', 'src'),
      events: Math.round((sourceMiB * MiB) / AVERAGE_LINE_BYTES),
      from,
      days: 2,
      seed: 7,
      malformedLines: 0,
    });
    await registerDestination(runtime.destinationDeps, {
      accountId: 'bench',
      destinationId: 'bench-destination',
      nickname: 'bench',
      bucket: 'bench-destination',
    });
    const parsed = parseExportRequest({
      requestId: 'bench',
      accountId: 'bench',
      exportId: 'bench',
      destinationId: 'bench-destination',
      kind: 'events',
      window: { from: from.toISOString(), to: '2026-01-03T00:00:00Z' },
      source: { prefixes: ['gs://bench-source/src/'] },
      createdBy: { email: 'bench@example.com', name: 'Bench' },
    });
    if (!parsed.ok) throw new Error(parsed.violations.join('; '));
    global.gc?.();
    const peak = { rss: 0, heap: 0, external: 0 };
    const sample = (): void => {
      const usage = process.memoryUsage();
      peak.rss = Math.max(peak.rss, usage.rss);
      peak.heap = Math.max(peak.heap, usage.heapUsed);
      peak.external = Math.max(peak.external, usage.external + usage.arrayBuffers);
    };
    const timer = setInterval(sample, 10);
    const summary = await runRequestLocally(runtime, parsed.value);
    clearInterval(timer);
    sample();
    await runtime.close();
    const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
    return {
      sourceMiB: mib(generated.bytes),
      records: summary.records,
      files: summary.files,
      seconds: Math.round(summary.seconds * 100) / 100,
      peakRssMiB: mib(peak.rss),
      peakHeapMiB: mib(peak.heap),
      peakExternalMiB: mib(peak.external),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that report figures (never pass/fail)');

  bench
    .command('memory')
    .description("peak memory of one chunk's writer for growing chunk sizes (each size in a fresh process)")
    .option('--sizes <list>', 'source sizes in MiB, comma-separated', '16,64,256')
    .action((options: { sizes: string }) => {
      const rows: MemoryFigures[] = [];
      for (const size of options.sizes.split(',').map((s) => positiveInt(s.trim()))) {
        const output = execFileSync(
          process.execPath,
          ['--expose-gc', process.argv[1] ?? '', 'bench', 'memory-one', '--mib', String(size)],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const row = JSON.parse(output.trim().split('\n').pop() ?? '{}') as MemoryFigures;
        rows.push(row);
        process.stdout.write(
          `source ${row.sourceMiB} MiB → ${row.records} records, ${row.files} files in ${row.seconds} s; ` +
            `peak RSS ${row.peakRssMiB} MiB, heap ${row.peakHeapMiB} MiB, buffers ${row.peakExternalMiB} MiB\n`,
        );
      }
      process.stdout.write(`${JSON.stringify(rows)}\n`);
    });

  bench
    .command('memory-one', { hidden: true })
    .requiredOption('--mib <n>', 'source size in MiB', positiveInt)
    .action(async (options: { mib: number }) => {
      process.stdout.write(`${JSON.stringify(await measureOneChunk(options.mib))}\n`);
    });
}

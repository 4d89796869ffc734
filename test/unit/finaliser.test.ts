import { paths } from '../../shared/domain/documents';
import type { ChunkDoc } from '../../shared/domain/documents';
import { finaliseRun } from '../../shared/domain/finalise-run';
import { loadRun } from '../../shared/domain/run-state';
import { runIdFor } from '../../shared/domain/ids';
import type { Harness } from '../support/local-harness';
import { ACCOUNT, createHarness, eventLines } from '../support/local-harness';

const CHUNKS = 6;

/** A planned run whose chunks are all done, as if the workers had just finished concurrently. */
async function runWithFinishedChunks(h: Harness): Promise<string> {
  await h.writeSource('events/a.ndjson', eventLines(10));
  const request = h.request();
  const runId = runIdFor(ACCOUNT, request.requestId);
  const now = h.clock.now().toISOString();
  await h.runtime.state.set(paths.run(runId), {
    runId,
    requestId: request.requestId,
    requestHash: 'h',
    accountId: ACCOUNT,
    exportId: request.exportId,
    destinationId: request.destinationId,
    request,
    status: 'running',
    chunkCount: CHUNKS,
    createdAt: now,
    updatedAt: now,
  });
  for (let index = 0; index < CHUNKS; index += 1) {
    const chunk: ChunkDoc = {
      index,
      slices: [],
      bytes: 0,
      status: 'done',
      attempts: 1,
      files: [
        {
          name: `f-${index}`,
          records: 10,
          bytes: 100,
          crc32c: 'AAAAAA==',
          chunk: index,
          part: 0,
          dt: '2026-02-01',
        },
      ],
      counts: { sourceLines: 11, records: 10, quarantined: 1, filteredOut: 0, sourceBytes: 1000 },
      updatedAt: now,
    };
    await h.runtime.state.set(paths.chunk(runId, index), chunk);
  }
  return runId;
}

describe('finaliser', () => {
  let h: Harness;
  afterEach(async () => h.dispose());

  it('writes exactly one manifest and one _SUCCESS when every chunk worker tries at once', async () => {
    h = await createHarness({ label: 'finaliser-race' });
    const runId = await runWithFinishedChunks(h);
    const writes: string[] = [];
    const store = h.runtime.buckets;
    const original = store.writeOnce.bind(store);
    store.writeOnce = (bucket, name, body, options) => {
      writes.push(name);
      return original(bucket, name, body, options);
    };

    const results = await Promise.all(
      Array.from({ length: CHUNKS }, () => finaliseRun(h.runtime.ctx, runId)),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(writes).toEqual([
      `_runs/daily-events/${runId}/manifest.json`,
      `_runs/daily-events/${runId}/_SUCCESS`,
    ]);
    const run = await loadRun(h.runtime.state, runId);
    expect(run?.status).toBe('succeeded');
    expect(run?.totals).toMatchObject({
      files: CHUNKS,
      records: 10 * CHUNKS,
      quarantined: CHUNKS,
      sourceLines: 11 * CHUNKS,
    });
  });

  it('does not finalise while a chunk is still open', async () => {
    h = await createHarness({ label: 'finaliser-open-chunk' });
    const runId = await runWithFinishedChunks(h);
    await h.runtime.state.update(paths.chunk(runId, 3), { status: 'running' });
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(false);
    expect((await h.destinationObjects()).size).toBe(0);
  });

  it('lets a new worker take over a finaliser that died, writing a byte-identical manifest', async () => {
    h = await createHarness({ label: 'finaliser-takeover' });
    const runId = await runWithFinishedChunks(h);
    // The first finaliser wrote the manifest, then died before _SUCCESS and before marking the run.
    const store = h.runtime.buckets;
    const original = store.writeOnce.bind(store);
    store.writeOnce = (bucket, name, body, options) =>
      name.endsWith('_SUCCESS')
        ? Promise.reject(new Error('instance killed'))
        : original(bucket, name, body, options);
    await expect(finaliseRun(h.runtime.ctx, runId)).rejects.toThrow('instance killed');
    const firstManifest = (await h.destinationObjects()).get(`_runs/daily-events/${runId}/manifest.json`);
    store.writeOnce = original;

    h.clock.advance(60_000);
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(false);
    h.clock.advance(h.runtime.ctx.settings.chunkLeaseSeconds * 1000);
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(true);

    const objects = await h.destinationObjects();
    expect(objects.get(`_runs/daily-events/${runId}/manifest.json`)).toEqual(firstManifest);
    expect(objects.has(`_runs/daily-events/${runId}/_SUCCESS`)).toBe(true);
    expect((await loadRun(h.runtime.state, runId))?.status).toBe('succeeded');
  });
});

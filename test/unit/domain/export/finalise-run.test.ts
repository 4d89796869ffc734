import { paths } from '../../../../shared/domain/documents';
import type { ChunkDoc } from '../../../../shared/domain/documents';
import { finaliseRun } from '../../../../shared/domain/export/finalise-run';
import { loadRun } from '../../../../shared/domain/export/run-state';
import { runIdFor } from '../../../../shared/domain/ids';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, createHarness, eventLines } from '../../../support/local-harness';

const CHUNKS = 6;
const PLAN_ID = 'feedbeef0001';

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
    planId: PLAN_ID,
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
    await h.runtime.state.set(paths.chunk({ runId, planId: PLAN_ID }, index), chunk);
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

    const results = await Promise.allSettled(
      Array.from({ length: CHUNKS }, () => finaliseRun(h.runtime.ctx, runId)),
    );

    expect(results.filter((r) => r.status === 'fulfilled' && r.value)).toHaveLength(1);
    // The others are told to retry later rather than acked, so the run still completes if the winner dies.
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const result of rejected) {
      expect(result.reason).toMatchObject({ kind: 'transient', code: 'finaliserBusy' });
    }
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
    await h.runtime.state.update(paths.chunk({ runId, planId: PLAN_ID }, 3), { status: 'running' });
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(false);
    expect((await h.destinationObjects()).size).toBe(0);
  });

  it('hands the claim back when finalising fails, so the retry finalises at once with a byte-identical manifest', async () => {
    h = await createHarness({ label: 'finaliser-failure' });
    const runId = await runWithFinishedChunks(h);
    const store = h.runtime.buckets;
    const original = store.writeOnce.bind(store);
    store.writeOnce = (bucket, name, body, options) =>
      name.endsWith('_SUCCESS')
        ? Promise.reject(new Error('connection reset'))
        : original(bucket, name, body, options);
    await expect(finaliseRun(h.runtime.ctx, runId)).rejects.toThrow('connection reset');
    const firstManifest = (await h.destinationObjects()).get(`_runs/daily-events/${runId}/manifest.json`);
    expect((await loadRun(h.runtime.state, runId))?.status).toBe('running');
    store.writeOnce = original;

    h.clock.advance(1_000);
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(true);

    const objects = await h.destinationObjects();
    expect(objects.get(`_runs/daily-events/${runId}/manifest.json`)).toEqual(firstManifest);
    expect(objects.has(`_runs/daily-events/${runId}/_SUCCESS`)).toBe(true);
    expect((await loadRun(h.runtime.state, runId))?.status).toBe('succeeded');
  });

  it('takes over from a finaliser that died without a word once its lease has expired', async () => {
    h = await createHarness({ label: 'finaliser-takeover' });
    const runId = await runWithFinishedChunks(h);
    const leaseUntil = new Date(h.clock.now().getTime() + 120_000).toISOString();
    await h.runtime.state.set(paths.finaliserClaim(runId), {
      holder: 'dead-instance',
      leaseUntil,
      completedAt: h.clock.now().toISOString(),
      done: false,
    });

    await expect(finaliseRun(h.runtime.ctx, runId)).rejects.toMatchObject({ code: 'finaliserBusy' });
    h.clock.advance(h.runtime.ctx.settings.finaliserLeaseSeconds * 1000 + 1);
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(true);
    expect(await finaliseRun(h.runtime.ctx, runId)).toBe(false);
    expect((await h.destinationObjects()).has(`_runs/daily-events/${runId}/_SUCCESS`)).toBe(true);
  });
});

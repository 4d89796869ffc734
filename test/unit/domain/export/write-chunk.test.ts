import type { ExportContext } from '../../../../shared/domain/context';
import { ExportError } from '../../../../shared/domain/errors';
import { planExport } from '../../../../shared/domain/export/plan-export';
import { loadRun } from '../../../../shared/domain/export/run-state';
import { writeChunk } from '../../../../shared/domain/export/write-chunk';
import type { BusMessage } from '../../../../shared/ports/bus.port';
import type { Harness } from '../../../support/local-harness';
import { createHarness, eventLines } from '../../../support/local-harness';

/** writeChunk called directly, chunk by chunk, on a run planned with its chunk tasks held back. */
describe('writeChunk', () => {
  let h: Harness;
  let ctx: ExportContext;
  let runId: string;
  let chunkCount: number;
  const published: { topic: string; messages: readonly BusMessage[] }[] = [];

  beforeAll(async () => {
    h = await createHarness({ label: 'write-chunk', settings: { chunkTargetBytes: 32 * 1024 } });
    await h.writeSource('events/a.ndjson', `${eventLines(600)}\n{"name": broken\n`);
    ctx = {
      ...h.runtime.ctx,
      bus: { publish: (topic, messages) => (published.push({ topic, messages }), Promise.resolve()) },
    };
    const plan = await planExport(ctx, h.request());
    ({ runId, chunkCount } = plan);
  });
  afterAll(() => h.dispose());

  it('plans several chunks and publishes one task per chunk, none written yet', async () => {
    expect(chunkCount).toBeGreaterThan(2);
    expect(published.flatMap((p) => p.messages)).toHaveLength(chunkCount);
    expect(await h.destinationObjects()).toEqual(new Map());
  });

  it('writes each chunk once; a done chunk delivered again writes nothing; the last chunk finalises the run', async () => {
    const first = await writeChunk(ctx, runId, 0);
    expect(first).toMatchObject({ status: 'written', finalised: false });
    const afterFirst = await h.destinationObjects();
    expect(afterFirst.size).toBeGreaterThan(0);
    expect(await writeChunk(ctx, runId, 0)).toEqual({ status: 'skipped', why: 'done', finalised: false });
    expect(await h.destinationObjects()).toEqual(afterFirst);

    const outcomes = [first];
    for (let index = 1; index < chunkCount; index += 1) outcomes.push(await writeChunk(ctx, runId, index));
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(outcomes.map((o) => o.finalised)).toEqual([...Array<boolean>(chunkCount - 1).fill(false), true]);
    const quarantined = outcomes.reduce(
      (sum, o) => sum + (o.status === 'written' ? o.counts.quarantined : 0),
      0,
    );
    expect(quarantined).toBe(1);
    expect(await loadRun(ctx.state, runId)).toMatchObject({
      status: 'succeeded',
      totals: { records: 600, quarantined: 1 },
    });
    expect(await h.exportedRecords()).toHaveLength(600);
  });

  it('skips every chunk of a finished run, writing nothing', async () => {
    const before = await h.destinationObjects();
    expect(await writeChunk(ctx, runId, 0)).toEqual({ status: 'skipped', why: 'run is succeeded' });
    expect(await h.destinationObjects()).toEqual(before);
  });

  it('refuses a run that does not exist as runNotFound', async () => {
    await expect(writeChunk(ctx, '0'.repeat(32), 0)).rejects.toThrow(ExportError);
    await expect(writeChunk(ctx, '0'.repeat(32), 0)).rejects.toMatchObject({ code: 'runNotFound' });
  });
});

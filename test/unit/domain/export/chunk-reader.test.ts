import { gzipSync } from 'node:zlib';
import type { ExportContext } from '../../../../shared/domain/context';
import { chunkDocSchema, parseDocument, paths } from '../../../../shared/domain/documents';
import type { ChunkDoc, RunDoc } from '../../../../shared/domain/documents';
import { chunkJob, processSlices } from '../../../../shared/domain/export/chunk-reader';
import { planExport } from '../../../../shared/domain/export/plan-export';
import { loadRun, planOf } from '../../../../shared/domain/export/run-state';
import type { QuarantinedLine } from '../../../../shared/ports/quarantine.port';
import type { Harness } from '../../../support/local-harness';
import { createHarness, eventLines } from '../../../support/local-harness';

/** Reading a chunk: every slice's lines counted once, rejected ones quarantined with their place, in block order. */
describe('chunk reader', () => {
  let h: Harness;
  let run: RunDoc;
  let chunk: ChunkDoc;

  beforeAll(async () => {
    h = await createHarness({ label: 'chunk-reader' });
    const whole = gzipSync(eventLines(3000, ['Gz Event']));
    await h.writeSource('events/a-truncated.ndjson.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    await h.writeSource('events/b.ndjson', `${eventLines(40, ['Plain Event'])}\n{"name": broken\n`);
    const ctx: ExportContext = { ...h.runtime.ctx, bus: { publish: () => Promise.resolve() } };
    const { runId } = await planExport(ctx, h.request());
    run = (await loadRun(h.runtime.ctx.state, runId)) as RunDoc;
    const plan = planOf(run);
    if (!plan) throw new Error('run has no plan');
    const path = paths.chunk(plan, 0);
    chunk = parseDocument(chunkDocSchema, path, (await h.runtime.ctx.state.get(path)) ?? {});
  });
  afterAll(() => h.dispose());

  it('keeps the readable part of a truncated gzip object, quarantines the rest as one entry, and reads on', async () => {
    const quarantined: QuarantinedLine[] = [];
    const job = chunkJob(h.runtime.ctx, run, chunk, {
      output: { kind: 'observe' },
      writer: undefined,
      quarantine: {
        add: (line) => (quarantined.push(line), Promise.resolve()),
        commit: () => Promise.resolve(undefined),
        abort: () => Promise.resolve(),
      },
    });
    await processSlices(job);

    expect(chunk.slices.map((s) => s.name)).toEqual(['events/a-truncated.ndjson.gz', 'events/b.ndjson']);
    const fromGzip = job.counts.records - 40;
    expect(fromGzip).toBeGreaterThan(100);
    expect(fromGzip).toBeLessThan(3000);
    expect(job.counts).toMatchObject({ quarantined: 2, sourceLines: fromGzip + 1 + 41 });
    expect(quarantined.map((q) => [q.source, q.line, q.reason.slice(0, 28)])).toEqual([
      [`gs://platform-source/events/a-truncated.ndjson.gz`, fromGzip + 1, 'gzip data corrupt or truncat'],
      // Line 41 is blank (eventLines ends with a newline): not a record, not quarantined, but a line of the object.
      [`gs://platform-source/events/b.ndjson`, 42, 'not JSON: a JSON value expec'],
    ]);
    // The first pass observes what it read, block by block.
    expect(job.observations.reduce((sum, o) => sum + o.records, 0)).toBe(job.counts.records);
  });
});

import { Transform } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { ExportContext } from '../../../../shared/domain/context';
import { chunkDocSchema, parseDocument, paths } from '../../../../shared/domain/documents';
import type { ChunkDoc, RunDoc } from '../../../../shared/domain/documents';
import { chunkJob, processSlices } from '../../../../shared/domain/export/chunk-reader';
import { planExport } from '../../../../shared/domain/export/plan-export';
import { loadRun, planOf } from '../../../../shared/domain/export/run-state';
import type { QuarantinedLine } from '../../../../shared/ports/quarantine.port';
import type { BlockResult, BlockTask } from '../../../../shared/ports/block-processor.port';
import type { BucketStore } from '../../../../shared/ports/bucket-store.port';
import { processBlock } from '../../../../shared/domain/records/blocks';
import { pollUntil } from '../../../support/poll';
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

/** A harness whose source holds one gzip object, planned: its run and its first chunk. */
async function plannedChunk(
  label: string,
  name: string,
  text: string,
): Promise<{ h: Harness; run: RunDoc; chunk: ChunkDoc }> {
  const h = await createHarness({ label });
  await h.writeSource(name, gzipSync(text));
  const ctx: ExportContext = { ...h.runtime.ctx, bus: { publish: () => Promise.resolve() } };
  const { runId } = await planExport(ctx, h.request());
  const run = (await loadRun(h.runtime.ctx.state, runId)) as RunDoc;
  const plan = planOf(run);
  if (!plan) throw new Error('run has no plan');
  const path = paths.chunk(plan, 0);
  const chunk = parseDocument(chunkDocSchema, path, (await h.runtime.ctx.state.get(path)) ?? {});
  return { h, run, chunk };
}

describe('chunk reader: read-ahead', () => {
  let h: Harness;
  afterAll(() => h.dispose());

  it('reads the source on (several MiB of text ahead) while the block before is being processed', async () => {
    const text = eventLines(60_000, ['Ahead Event']);
    const whole = gzipSync(text);
    const planned = await plannedChunk('chunk-reader-ahead', 'events/ahead.ndjson.gz', text);
    h = planned.h;
    const { run, chunk } = planned;

    // The source's bytes as the reader takes them, counted; the first block's processing waits until released.
    let read = 0;
    const inner = h.runtime.ctx.source;
    const source = Object.create(inner) as BucketStore;
    source.read = (bucket, name, range) =>
      inner.read(bucket, name, range).pipe(
        new Transform({
          transform(piece: Buffer, _encoding, done) {
            read += piece.length;
            done(null, piece);
          },
        }),
      );
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const blocks = {
      concurrency: 1,
      process: async (task: BlockTask): Promise<BlockResult> => {
        calls += 1;
        if (calls === 1) await held;
        return processBlock(task);
      },
      release: () => undefined,
      close: () => Promise.resolve(),
    };
    const job = chunkJob({ ...h.runtime.ctx, source, blocks }, run, chunk, {
      output: { kind: 'observe' },
      writer: undefined,
      quarantine: {
        add: () => Promise.resolve(),
        commit: () => Promise.resolve(undefined),
        abort: () => Promise.resolve(),
      },
    });
    const done = processSlices(job);
    // With the first block (1 MiB) held, the source is read on: at least 3 MiB of text's worth of gzip beyond it.
    // gunzip's default 16 KiB buffers stopped it a few KiB after the first block.
    const ahead = Math.ceil(((1 + 3) * 1024 * 1024 * whole.length) / text.length);
    expect(whole.length).toBeGreaterThan(ahead);
    await pollUntil('the first block', () => Promise.resolve(calls === 1 ? calls : undefined), 10_000);
    await pollUntil('the source read ahead', () => Promise.resolve(read >= ahead ? read : undefined), 10_000);
    expect(calls).toBe(1);
    release();
    await done;
    expect(job.counts.records).toBe(60_000);
  });
});

describe('chunk reader: block buffers', () => {
  let h: Harness;
  afterAll(() => h.dispose());

  it('reuses a block buffer only once its result is used, with several blocks in flight', async () => {
    const text = eventLines(40_000, ['Block Event', 'Other Event']);
    const planned = await plannedChunk('chunk-reader-blocks', 'events/many.ndjson.gz', text);
    h = planned.h;
    const { run, chunk } = planned;

    // A processor that reads its block late, as a worker thread with a queue does: the bytes it is given must still
    // be the block's when it reads them, whatever the reader has split since.
    let blocks = 0;
    let changed = 0;
    const slow = {
      concurrency: 3,
      process: async (task: BlockTask): Promise<BlockResult> => {
        const mine = (blocks += 1);
        const copy = Buffer.from(task.bytes);
        // Until the reader has split the next block (or, for the last, a while): its buffer could be this one's.
        const until = Date.now() + 300;
        while (blocks === mine && Date.now() < until)
          await new Promise<void>((resolve) => setImmediate(resolve));
        if (!copy.equals(task.bytes)) changed += 1;
        return processBlock(task);
      },
      release: () => undefined,
      close: () => Promise.resolve(),
    };
    const pass = {
      output: { kind: 'observe' as const },
      writer: undefined,
      quarantine: {
        add: () => Promise.resolve(),
        commit: () => Promise.resolve(undefined),
        abort: () => Promise.resolve(),
      },
    };
    const job = chunkJob({ ...h.runtime.ctx, blocks: slow }, run, chunk, pass);
    await processSlices(job);
    expect(blocks).toBeGreaterThan(3);
    expect(changed).toBe(0);
    expect(job.counts.records).toBe(40_000);
  });
});

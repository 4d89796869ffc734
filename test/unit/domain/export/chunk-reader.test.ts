import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { ExportContext } from '../../../../shared/domain/context';
import { chunkDocSchema, parseDocument, paths } from '../../../../shared/domain/documents';
import type { ChunkDoc, RunDoc } from '../../../../shared/domain/documents';
import { chunkJob, processSlices } from '../../../../shared/domain/export/chunk-reader';
import { planExport } from '../../../../shared/domain/export/plan-export';
import { loadRun, planOf } from '../../../../shared/domain/export/run-state';
import type { QuarantinedLine } from '../../../../shared/ports/quarantine.port';
import type { BlockProcessor, BlockResult, BlockTask } from '../../../../shared/ports/block-processor.port';
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

/** A harness whose source holds the given objects, planned into one chunk: its run and that chunk. */
async function plannedObjects(
  label: string,
  objects: [name: string, body: Buffer][],
): Promise<{ h: Harness; run: RunDoc; chunk: ChunkDoc }> {
  const h = await createHarness({ label });
  for (const [name, body] of objects) await h.writeSource(name, body);
  const ctx: ExportContext = { ...h.runtime.ctx, bus: { publish: () => Promise.resolve() } };
  const { runId } = await planExport(ctx, h.request());
  const run = (await loadRun(h.runtime.ctx.state, runId)) as RunDoc;
  const plan = planOf(run);
  if (!plan) throw new Error('run has no plan');
  const chunk = parseDocument(
    chunkDocSchema,
    paths.chunk(plan, 0),
    (await h.runtime.ctx.state.get(paths.chunk(plan, 0))) ?? {},
  );
  if (chunk.slices.length !== objects.length)
    throw new Error(`expected one chunk of ${objects.length} slices`);
  return { h, run, chunk };
}

/** The source's bytes as the reader takes them, by object, and every stream it opened. */
function countingSource(inner: BucketStore): {
  source: BucketStore;
  read: Map<string, number>;
  opened: Readable[];
} {
  const read = new Map<string, number>();
  const opened: Readable[] = [];
  const source = Object.create(inner) as BucketStore;
  source.read = (bucket, name, range) => {
    const stream = inner.read(bucket, name, range).pipe(
      new Transform({
        transform(piece: Buffer, _encoding, done) {
          read.set(name, (read.get(name) ?? 0) + piece.length);
          done(null, piece);
        },
      }),
    );
    opened.push(stream);
    return stream;
  };
  return { source, read, opened };
}

const observeOnly = {
  output: { kind: 'observe' as const },
  writer: undefined,
  quarantine: {
    add: () => Promise.resolve(),
    commit: () => Promise.resolve(undefined),
    abort: () => Promise.resolve(),
  },
};

/** A block processor that holds its first block until `release()`. */
function firstBlockHeld(): { blocks: BlockProcessor; release: () => void; calls: () => number } {
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
  return { blocks, release, calls: () => calls };
}

/** A harness whose source holds one gzip object, planned: its run and its first chunk. */
const plannedChunk = (label: string, name: string, text: string) =>
  plannedObjects(label, [[name, gzipSync(text)]]);

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
    const { source, read } = countingSource(h.runtime.ctx.source);
    const { blocks, release, calls } = firstBlockHeld();
    const job = chunkJob({ ...h.runtime.ctx, source, blocks }, run, chunk, observeOnly);
    const done = processSlices(job);
    // With the first block (1 MiB) held, the source is read on: at least 3 MiB of text's worth of gzip beyond it.
    // gunzip's default 16 KiB buffers stopped it a few KiB after the first block.
    const ahead = Math.ceil(((1 + 3) * 1024 * 1024 * whole.length) / text.length);
    expect(whole.length).toBeGreaterThan(ahead);
    await pollUntil('the first block', () => Promise.resolve(calls() === 1 ? true : undefined), 10_000);
    const readOf = (): number => read.get('events/ahead.ndjson.gz') ?? 0;
    await pollUntil(
      'the source read ahead',
      () => Promise.resolve(readOf() >= ahead ? true : undefined),
      10_000,
    );
    expect(calls()).toBe(1);
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
    const job = chunkJob({ ...h.runtime.ctx, blocks: slow }, run, chunk, observeOnly);
    await processSlices(job);
    expect(blocks).toBeGreaterThan(3);
    expect(changed).toBe(0);
    expect(job.counts.records).toBe(40_000);
  });
});

describe('chunk reader: the next slice read ahead', () => {
  const harnesses: Harness[] = [];
  afterAll(async () => {
    for (const h of harnesses) await h.dispose();
  });

  it('reads the next slice while the one before is being processed', async () => {
    const { h, run, chunk } = await plannedObjects('chunk-reader-next', [
      ['events/a.ndjson.gz', gzipSync(eventLines(20_000, ['First Event']))],
      ['events/b.ndjson.gz', gzipSync(eventLines(20_000, ['Second Event']))],
    ]);
    harnesses.push(h);
    const { source, read } = countingSource(h.runtime.ctx.source);
    const { blocks, release, calls } = firstBlockHeld();
    const job = chunkJob({ ...h.runtime.ctx, source, blocks }, run, chunk, observeOnly);
    const done = processSlices(job);
    // The first slice's first block is held: the second slice is already being read (opened only after the
    // first ended, it was not).
    await pollUntil('the first block', () => Promise.resolve(calls() === 1 ? true : undefined), 10_000);
    await pollUntil('the second slice read', () => Promise.resolve(read.get('events/b.ndjson.gz')), 10_000);
    expect(calls()).toBe(1);
    release();
    await done;
    expect(job.counts.records).toBe(40_000);
  });

  it('keeps the error of a slice read ahead for its turn: the slices before it are read whole', async () => {
    const corrupt = Buffer.from(gzipSync(eventLines(5_000, ['Corrupt Event'])));
    corrupt.fill(0xff, 20, 60); // fails at once, while the first slice is still being read
    const quarantined: QuarantinedLine[] = [];
    const { h, run, chunk } = await plannedObjects('chunk-reader-next-corrupt', [
      ['events/a.ndjson.gz', gzipSync(eventLines(20_000, ['First Event']))],
      ['events/b.ndjson.gz', corrupt],
      ['events/c.ndjson.gz', gzipSync(eventLines(300, ['Third Event']))],
    ]);
    harnesses.push(h);
    const job = chunkJob(h.runtime.ctx, run, chunk, {
      ...observeOnly,
      quarantine: { ...observeOnly.quarantine, add: (line) => (quarantined.push(line), Promise.resolve()) },
    });
    await processSlices(job);
    expect(job.counts.records).toBe(20_300);
    expect(quarantined.map((q) => [q.source, q.line, q.reason.slice(0, 28)])).toEqual([
      ['gs://platform-source/events/b.ndjson.gz', 1, 'gzip data corrupt or truncat'],
    ]);
  });

  it('leaves no slice reading when the chunk fails', async () => {
    const { h, run, chunk } = await plannedObjects('chunk-reader-next-fails', [
      // Large enough that no read has ended when the first block fails.
      // Stored uncompressed (level 0): 8 MiB, far more than gunzip's input buffer takes ahead.
      ['events/a.ndjson.gz', gzipSync(eventLines(60_000, ['First Event']), { level: 0 })],
      // Plain: read ahead a piece at a time, not swallowed whole by gunzip's input buffer.
      ['events/b.ndjson', Buffer.from(eventLines(60_000, ['Second Event']))],
      ['events/c.ndjson.gz', gzipSync(eventLines(3_000, ['Third Event']))],
    ]);
    harnesses.push(h);
    const { source, opened } = countingSource(h.runtime.ctx.source);
    const failing = {
      concurrency: 1,
      process: (): Promise<BlockResult> => Promise.reject(new Error('the block failed')),
      release: () => undefined,
      close: () => Promise.resolve(),
    };
    const job = chunkJob({ ...h.runtime.ctx, source, blocks: failing }, run, chunk, observeOnly);
    await expect(processSlices(job)).rejects.toThrow('the block failed');
    // The reads of the failing slice and of the one read ahead: both destroyed, though neither had ended; the third
    // was never opened.
    expect(opened).toHaveLength(2);
    expect(opened.some((stream) => stream.readableEnded)).toBe(false);
    await pollUntil('the reads destroyed', () =>
      Promise.resolve(opened.every((stream) => stream.destroyed) ? true : undefined),
    );
  });
});

import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LocalBucketStore } from '../../../../shared/adapters/local/local-bucket-store';
import { destinationError } from '../../../../shared/domain/errors';
import { BATCH_BYTES, CompressorQueue } from '../../../../shared/domain/output/compressor-queue';
import { PartSink } from '../../../../shared/domain/output/part-sink';
import type { BucketStore } from '../../../../shared/ports/bucket-store.port';
import { pollUntil } from '../../../support/poll';
import { useTempDirs } from '../../../support/temp-dir';

const BUCKET = 'parts';

async function sinkIn(
  root: string,
  gzip: boolean,
): Promise<{ sink: PartSink; read: () => Promise<Buffer>; stored: () => Promise<Buffer> }> {
  const store = new LocalBucketStore(root);
  await store.createBucket(BUCKET);
  const name = gzip ? 'part.jsonl.gz' : 'part.jsonl';
  const sink = new PartSink({
    store,
    bucket: BUCKET,
    name,
    contentType: 'application/x-ndjson',
    gzip,
    classify: (e) => destinationError('destinationRejected', e.message),
  });
  const stored = async () => {
    const chunks: Buffer[] = [];
    for await (const c of store.read(BUCKET, name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const read = async () => (gzip ? gunzipSync(await stored()) : stored());
  return { sink, read, stored };
}

describe('PartSink', () => {
  const dir = useTempDirs();

  it('copies the lines it is given: a view into a block output is never kept (nor its block alive)', async () => {
    const { sink, read } = await sinkIn(dir('copy'), true);
    // A partition's lines arrive as a small view of a block's whole output.
    const block = Buffer.alloc(1024 * 1024, 0x78);
    block.write('{"a":1}\n', 4096);
    await sink.write(block.subarray(4096, 4104), 1);
    // The block's buffer is reused or changed after the write returns: the part must not see it.
    block.fill(0x2a);
    await sink.close();
    expect((await read()).toString()).toBe('{"a":1}\n');
  });

  it('reuses a batch only once the compressor has consumed it: the object is gzip of exactly the lines written', async () => {
    const { sink, stored } = await sinkIn(dir('reuse'), true);
    const lines = Array.from({ length: 40_000 }, (_, i) => `{"i":${i},"s":"${'q'.repeat((i * 7) % 97)}"}\n`);
    // Pieces of every size around a batch (64 KiB), so that batches fill, overflow and are sent while others fill.
    for (let at = 0, n = 1; at < lines.length; at += n, n = (n * 5 + 3) % 900) {
      await sink.write(Buffer.from(lines.slice(at, at + n).join('')), Math.min(n, lines.length - at));
    }
    const part = await sink.close();
    // Byte for byte what gzip of the whole text gives, however it was cut into writes and batches.
    expect((await stored()).equals(gzipSync(lines.join(''), { level: 6 }))).toBe(true);
    expect(part.records).toBe(lines.length);
  });

  it('writes lines larger than its batch, and many small ones, whole and in order', async () => {
    const { sink, read } = await sinkIn(dir('large'), false);
    const big = `${JSON.stringify({ pad: 'y'.repeat(200 * 1024) })}\n`;
    const small = Array.from({ length: 3000 }, (_, i) => `{"i":${i}}\n`);
    for (const text of [small[0] ?? '', big, ...small.slice(1)]) await sink.write(Buffer.from(text), 1);
    const part = await sink.close();
    const expected = [small[0], big, ...small.slice(1)].join('');
    expect((await read()).toString()).toBe(expected);
    expect(part.records).toBe(3001);
    expect(part.bytes).toBe(Buffer.byteLength(expected));
  });
});

/** Whether `promise` is still pending after the event loop has turned for a while (50 ms). */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  return !settled;
}

/**
 * A part whose upload reads nothing until `open()`: its compressor's output backs up, so the compressor consumes
 * one batch and calls back for none (a write's callback waits until its output is read).
 */
async function heldSink(
  root: string,
  name: string,
  queue: CompressorQueue,
): Promise<{ sink: PartSink; open: () => void; stored: () => Promise<Buffer> }> {
  const inner = new LocalBucketStore(root);
  await inner.createBucket(BUCKET).catch(() => undefined);
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const store = Object.create(inner) as BucketStore;
  store.writeOnce = async (bucket: string, object: string, body: Readable, options) => {
    await gate;
    return inner.writeOnce(bucket, object, body, options);
  };
  const sink = new PartSink({
    store,
    bucket: BUCKET,
    name,
    contentType: 'application/gzip',
    gzip: true,
    classify: (e) => destinationError('destinationRejected', e.message),
    queue,
  });
  const stored = async () => {
    const chunks: Buffer[] = [];
    for await (const c of inner.read(BUCKET, name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  return { sink, open, stored };
}

/** Whole batches of incompressible bytes: each is one write to the compressor, whose output is as large. */
const batches = (count: number): Buffer[] => Array.from({ length: count }, () => randomBytes(BATCH_BYTES));

describe('PartSink: batches queued for the compressor, bounded per chunk', () => {
  const dir = useTempDirs();

  it('goes on while the chunk queue has room, and waits when it is full, without waiting for each batch', async () => {
    const queue = new CompressorQueue(4);
    const { sink, open, stored } = await heldSink(dir('queue'), 'a.gz', queue);
    const data = batches(6);
    // The upload reads nothing: no batch is called back, yet three writes return (one stream mark per part made
    // the first write wait for the compressor to drain).
    for (const batch of data.slice(0, 3)) await sink.write(batch, 1);
    expect(queue.size).toBe(3);
    const fourth = sink.write(data[3], 1);
    expect(await pending(fourth)).toBe(true);
    expect(queue.size).toBe(4);
    open();
    await fourth;
    for (const batch of data.slice(4)) await sink.write(batch, 1);
    await sink.close();
    expect(queue.size).toBe(0);
    expect((await stored()).equals(gzipSync(Buffer.concat(data), { level: 6 }))).toBe(true);
  });

  it('shares one bound among the parts of a chunk: a part waits for room that another part holds', async () => {
    const queue = new CompressorQueue(4);
    const a = await heldSink(dir('shared'), 'a.gz', queue);
    const b = await heldSink(dir('shared'), 'b.gz', queue);
    for (const batch of batches(3)) await a.sink.write(batch, 1);
    // b's first batch fills the queue: b waits, though its own upload has nothing queued before it.
    const waiting = b.sink.write(randomBytes(BATCH_BYTES), 1);
    expect(await pending(waiting)).toBe(true);
    // Room comes from a's upload alone; b's stays closed.
    a.open();
    await waiting;
    await a.sink.close();
    b.open();
    await b.sink.close();
    expect(queue.size).toBe(0);
  });

  it("gives back a failed part's queued batches at once, so the other parts go on", async () => {
    const queue = new CompressorQueue(2);
    const a = await heldSink(dir('failed'), 'a.gz', queue);
    const b = await heldSink(dir('failed'), 'b.gz', queue);
    await a.sink.write(randomBytes(BATCH_BYTES), 1);
    const stuck = a.sink.write(randomBytes(BATCH_BYTES), 1);
    expect(await pending(stuck)).toBe(true);
    // a's upload never starts; the chunk gives a up. Its waiting write fails, and its batches leave the queue.
    a.sink.abort(new Error('chunk failed elsewhere'));
    await expect(stuck).rejects.toThrow(/stopped|chunk failed/);
    await pollUntil('the queue emptied', () => Promise.resolve(queue.size === 0 ? true : undefined), 5_000);
    b.open();
    for (const batch of batches(3)) await b.sink.write(batch, 1);
    await b.sink.close();
    expect(queue.size).toBe(0);
  });
});

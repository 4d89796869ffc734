import { gunzipSync, gzipSync } from 'node:zlib';
import { LocalBucketStore } from '../../../../shared/adapters/local/local-bucket-store';
import { destinationError } from '../../../../shared/domain/errors';
import { PartSink } from '../../../../shared/domain/output/part-sink';
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

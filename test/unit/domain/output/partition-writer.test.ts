import { gunzipSync } from 'node:zlib';
import { LocalBucketStore } from '../../../../shared/adapters/local/local-bucket-store';
import { crc32cOf } from '../../../../shared/domain/output/checksum';
import { partitionFor } from '../../../../shared/domain/output/layout';
import { PartSink } from '../../../../shared/domain/output/part-sink';
import { PartitionWriter } from '../../../../shared/domain/output/partition-writer';
import { destinationError } from '../../../../shared/domain/errors';
import { useTempDirs } from '../../../support/temp-dir';

const BUCKET = 'parts';

function line(i: number): string {
  return `${JSON.stringify({ name: 'e', i, pad: 'x'.repeat(i % 50) })}\n`;
}

async function writeAll(
  root: string,
  lines: string[],
  maxPartBytes: number,
  maxOpenParts = 8,
  folders = 1,
  spill?: { stageBytes: number; limitBytes: number },
) {
  const store = new LocalBucketStore(root);
  await store.createBucket(BUCKET);
  const writer = new PartitionWriter({
    chunk: 0,
    maxPartBytes,
    maxOpenParts,
    ...(spill ? { spill } : {}),
    openPart: (key, part) =>
      Promise.resolve(
        new PartSink({
          store,
          bucket: BUCKET,
          name: `${key.folder}/part-${part}.jsonl.gz`,
          contentType: 'application/gzip',
          gzip: true,
          classify: (e) => destinationError('destinationRejected', e.message),
        }),
      ),
  });
  for (const [i, text] of lines.entries()) {
    const key = partitionFor('events', '', new Date(Date.UTC(2026, 0, 1)), `ev${i % folders}`);
    await writer.write(key, Buffer.from(text), 1);
  }
  return { files: await writer.finish(), store };
}

describe('partition writer', () => {
  const dir = useTempDirs();

  it.each([
    { maxPartBytes: 4 * 1024, lines: 2000 },
    { maxPartBytes: 64 * 1024, lines: 2000 },
    { maxPartBytes: 1024 * 1024, lines: 500 },
  ])(
    'rolls parts over before $maxPartBytes bytes and keeps every line once',
    async ({ maxPartBytes, lines }) => {
      const input = Array.from({ length: lines }, (_, i) => line(i));
      const { files, store } = await writeAll(dir('rollover'), input, maxPartBytes);
      const expectedParts = Math.ceil(input.join('').length / maxPartBytes);
      expect(files.length).toBeGreaterThanOrEqual(expectedParts);
      let restored = '';
      for (const file of [...files].sort((a, b) => a.part - b.part)) {
        const chunks: Buffer[] = [];
        for await (const c of store.read(BUCKET, file.name)) chunks.push(c as Buffer);
        const raw = gunzipSync(Buffer.concat(chunks));
        expect(raw.length).toBeLessThanOrEqual(maxPartBytes);
        expect(file.bytes).toBe(Buffer.concat(chunks).length);
        expect(file.crc32c).toBe(crc32cOf(Buffer.concat(chunks)));
        expect(file.records).toBe(raw.toString().split('\n').filter(Boolean).length);
        restored += raw.toString();
      }
      expect(restored).toBe(input.join(''));
    },
  );

  it('produces byte-identical gzip output for the same lines', async () => {
    const input = Array.from({ length: 3000 }, (_, i) => line(i));
    const first = await writeAll(dir('deterministic-a'), input, 16 * 1024);
    const second = await writeAll(dir('deterministic-b'), input, 16 * 1024);
    expect(second.files).toEqual(first.files);
  });

  /** Every part's lines, by partition folder, in part order. */
  async function linesByFolder(store: LocalBucketStore, files: { name: string; part: number }[]) {
    const byFolder = new Map<string, string[]>();
    for (const file of [...files].sort((a, b) => a.part - b.part)) {
      const chunks: Buffer[] = [];
      for await (const c of store.read(BUCKET, file.name)) chunks.push(c as Buffer);
      const folder = file.name.slice(0, file.name.lastIndexOf('/'));
      const lines = gunzipSync(Buffer.concat(chunks)).toString().split('\n').filter(Boolean);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), ...lines]);
    }
    return byFolder;
  }

  it('spills partitions beyond maxOpenParts and still writes one object per partition, lines in order', async () => {
    const input = Array.from({ length: 600 }, (_, i) => line(i));
    const { files, store } = await writeAll(dir('spill'), input, 1024 * 1024, 2, 7);
    expect(files).toHaveLength(7);
    expect(files.reduce((n, f) => n + f.records, 0)).toBe(600);
    const byFolder = await linesByFolder(store, files);
    for (const [folder, lines] of byFolder) {
      const ev = folder.slice(folder.indexOf('event=') + 6, folder.indexOf('/dt='));
      expect(lines).toEqual(input.filter((_, i) => `ev${i % 7}` === ev).map((l) => l.trimEnd()));
    }
  });

  it('rolls spilled partitions over by size, and writes the largest out early when the spill is full', async () => {
    const input = Array.from({ length: 3000 }, (_, i) => line(i));
    const spill = { stageBytes: 2048, limitBytes: 4096 };
    const { files, store } = await writeAll(dir('spill-limit'), input, 16 * 1024, 2, 9, spill);
    expect(files.reduce((n, f) => n + f.records, 0)).toBe(3000);
    expect(new Set(files.map((f) => f.name)).size).toBe(files.length);
    for (const [, lines] of await linesByFolder(store, files)) {
      const indices = lines.map((l) => (JSON.parse(l) as { i: number }).i);
      expect(indices).toEqual([...indices].sort((a, b) => a - b));
    }
    expect(files.every((f) => f.records > 0)).toBe(true);
  });
});

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LocalBucketStore } from '../../../../shared/adapters/local/local-bucket-store';
import type { ByteRange } from '../../../../shared/ports/bucket-store.port';
import { EXACT_SIZE_MIN_BYTES, SIZE_SAMPLE } from '../../../../shared/domain/source/gzip-sizes';
import { listSource, newlineFinder } from '../../../../shared/domain/source/list-source';
import { planChunks } from '../../../../shared/domain/source/plan-chunks';
import type { PlannableObject, PlannedChunk } from '../../../../shared/domain/source/plan-chunks';
import { FaultyStore } from '../../../support/faulty-store';
import { useTempDirs } from '../../../support/temp-dir';

// listSource weighs gzip objects by their uncompressed size, reading a trailer only for large objects and for an even
// sample of the small ones. The sources here are real gzip files in a LocalBucketStore; every trailer read is counted
// by a wrapping store, and every size is checked against the object's real, gunzipped length.

const BUCKET = 'src';
const KiB = 1024;

/** Highly compressible lines, as hourly event files of one kind are (~10:1 and more). */
const repetitive = (i: number): Buffer =>
  gzipSync(`{"event":"page_view","account":${i % 7},"ok":true}\n`.repeat(20 + (i % 41)), { level: 9 });
/** `count` lines of hex digests (74 bytes each): about 2:1 at level 1, data of another kind. */
const hexLines = (seed: string, count: number): string =>
  Array.from(
    { length: count },
    (_, n) => `{"h":"${createHash('sha256').update(`${seed}-${n}`).digest('hex')}"}\n`,
  ).join('');
const digests = (i: number): Buffer => gzipSync(hexLines(String(i), 8 + (i % 23)), { level: 1 });
/** A gzip object of more than EXACT_SIZE_MIN_BYTES stored bytes, at about 2:1. */
const large = (i: number): Buffer =>
  gzipSync(hexLines(`large-${i}`, Math.ceil((2.5 * EXACT_SIZE_MIN_BYTES) / 74)), { level: 1 });

interface Source {
  store: LocalBucketStore;
  /** Ranged reads the planner made: name and range. */
  reads: Array<{ name: string; range: ByteRange | undefined }>;
  /** The same store, counting reads into `reads`. */
  counted: FaultyStore;
  /** Real uncompressed length of each object, by name. */
  real: Map<string, number>;
  /** Names of the objects that really are gzip. */
  gzip: Set<string>;
  list(): Promise<PlannableObject[]>;
}

function sourceOf(dir: string, objects: ReadonlyArray<[name: string, bytes: Buffer]>): Source {
  const root = dir;
  mkdirSync(path.join(root, BUCKET), { recursive: true });
  const real = new Map<string, number>();
  const gzip = new Set<string>();
  for (const [name, bytes] of objects) {
    mkdirSync(path.dirname(path.join(root, BUCKET, name)), { recursive: true });
    writeFileSync(path.join(root, BUCKET, name), bytes);
    real.set(name, isGzip(bytes) ? gunzipSync(bytes).length : bytes.length);
    if (isGzip(bytes)) gzip.add(name);
  }
  const store = new LocalBucketStore(root);
  const reads: Source['reads'] = [];
  const counted = new FaultyStore(store, [], (_bucket, name, range) => void reads.push({ name, range }));
  return {
    store,
    reads,
    counted,
    real,
    gzip,
    list: () => listSource(counted, { objects: [], prefixes: [`gs://${BUCKET}/`] }),
  };
}

const isGzip = (bytes: Buffer): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;
const name = (prefix: string, i: number): string => `${prefix}/h-${String(i).padStart(5, '0')}.ndjson.gz`;
const trailerReads = (s: Source): string[] => s.reads.map((r) => r.name).sort();

/** The ratio listSource should apply to unread small objects: the read small real gzip ones' sum over their sizes. */
function expectedRatio(listed: readonly PlannableObject[], read: ReadonlySet<string>, s: Source): number {
  const sampled = listed.filter(
    (o) => read.has(o.name) && o.size < EXACT_SIZE_MIN_BYTES && s.gzip.has(o.name),
  );
  const compressed = sampled.reduce((sum, o) => sum + o.size, 0);
  const uncompressed = sampled.reduce((sum, o) => sum + (s.real.get(o.name) ?? 0), 0);
  return uncompressed / compressed;
}

/** Real uncompressed bytes of a chunk: what its workers will actually read. */
const realBytes = (chunk: PlannedChunk, s: Source): number =>
  chunk.slices.reduce((sum, slice) => sum + (s.real.get(slice.name) ?? 0), 0);

/** Plain text with a ".gz" name whose last 4 bytes claim 2 GiB: more than deflate could make of it. */
const fake = (i: number): Buffer =>
  Buffer.concat([Buffer.from(`not gzip ${i}\n`.repeat(3)), Buffer.from([0xff, 0xff, 0xff, 0x7f])]);

describe('listSource: gzip sizes from a sample of trailers', () => {
  const dir = useTempDirs();

  it('reads at most the sample and the large objects, and weighs the rest by the sample ratio', async () => {
    const smallCount = 4 * SIZE_SAMPLE;
    const s = sourceOf(dir('sizes-reads'), [
      ...Array.from({ length: smallCount }, (_, i): [string, Buffer] => [name('events', i), repetitive(i)]),
      ['events/large-1.ndjson.gz', large(1)],
      ['events/large-2.ndjson.gz', large(2)],
    ]);
    const listed = await s.list();

    expect(listed).toHaveLength(smallCount + 2);
    expect(s.reads.length).toBeLessThanOrEqual(SIZE_SAMPLE + 2);
    // Every read is a trailer read (the last 4 bytes), and each object is read at most once.
    for (const { name: read, range } of s.reads) {
      const object = listed.find((o) => o.name === read);
      expect(range).toEqual({ start: (object?.size ?? 0) - 4, end: object?.size });
    }
    expect(new Set(trailerReads(s)).size).toBe(s.reads.length);

    const read = new Set(trailerReads(s));
    const ratio = expectedRatio(listed, read, s);
    expect(ratio).toBeGreaterThan(5);
    for (const o of listed) {
      // Read objects carry their exact size; the others the sample's ratio times their stored size.
      expect(o.uncompressedSize).toBe(read.has(o.name) ? s.real.get(o.name) : Math.round(o.size * ratio));
    }
  });

  it('reads every trailer, exactly, when there are no more small objects than the sample', async () => {
    const s = sourceOf(
      dir('sizes-few'),
      Array.from({ length: SIZE_SAMPLE }, (_, i): [string, Buffer] => [
        name('events', i),
        i % 2 ? repetitive(i) : digests(i),
      ]),
    );
    const listed = await s.list();
    expect(s.reads).toHaveLength(SIZE_SAMPLE);
    expect(listed.map((o) => o.uncompressedSize)).toEqual(listed.map((o) => s.real.get(o.name)));
  });

  it('always reads large objects exactly, however far their ratio is from the sample', async () => {
    const s = sourceOf(dir('sizes-large'), [
      ...Array.from({ length: 2 * SIZE_SAMPLE }, (_, i): [string, Buffer] => [
        name('events', i),
        repetitive(i),
      ]),
      ['events/h-00100-large.ndjson.gz', large(3)],
      ['z-backfill/large.ndjson.gz', large(4)],
    ]);
    const listed = await s.list();
    const bigOnes = listed.filter((o) => o.size >= EXACT_SIZE_MIN_BYTES);
    expect(bigOnes.map((o) => o.name)).toEqual([
      'events/h-00100-large.ndjson.gz',
      'z-backfill/large.ndjson.gz',
    ]);
    for (const o of bigOnes) {
      expect(trailerReads(s)).toContain(o.name);
      expect(o.uncompressedSize).toBe(s.real.get(o.name));
    }
    // An estimate at the small objects' ratio would have weighed them five times too heavy.
    const ratio = expectedRatio(listed, new Set(trailerReads(s)), s);
    for (const o of bigOnes) expect(o.size * ratio).toBeGreaterThan(5 * (s.real.get(o.name) ?? 0));
  });

  it('plans the same chunks from the same listing, whichever way and order it is requested', async () => {
    const names: string[] = [];
    const s = sourceOf(
      dir('sizes-deterministic'),
      Array.from({ length: 3 * SIZE_SAMPLE }, (_, i): [string, Buffer] => {
        names.push(name(i % 3 ? 'events' : 'profiles', i));
        return [names[i] ?? '', i % 3 ? repetitive(i) : digests(i)];
      }),
    );
    const plan = async (objects: PlannableObject[]) => planChunks(objects, 64 * KiB, newlineFinder(s.store));
    const first = await plan(await s.list());
    const second = await plan(await s.list());
    // The same objects named one by one, in another order and with duplicates, list to the same plan.
    const shuffled = [...names.filter((_, i) => i % 2), ...names.filter((_, i) => i % 2 === 0).reverse()];
    const third = await plan(
      await listSource(s.store, {
        objects: [...shuffled, ...names.slice(0, 10)].map((n) => `gs://${BUCKET}/${n}`),
        prefixes: [],
      }),
    );
    expect(first.length).toBeGreaterThan(3);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it('keeps every chunk of a mixed-ratio source within the ratio spread of the target, by real bytes', async () => {
    // Two kinds, one after the other (the worst case: whole chunks of one kind, none averaging the other out).
    const s = sourceOf(dir('sizes-mixed'), [
      ...Array.from({ length: 300 }, (_, i): [string, Buffer] => [name('a-events', i), repetitive(i)]),
      ...Array.from({ length: 300 }, (_, i): [string, Buffer] => [name('b-profiles', i), digests(i)]),
    ]);
    const listed = await s.list();
    expect(s.reads.length).toBe(SIZE_SAMPLE);
    const read = new Set(trailerReads(s));
    const sampleRatio = expectedRatio(listed, read, s);
    const ratioOf = (object: { name: string }): number =>
      (s.real.get(object.name) ?? 0) / (listed.find((o) => o.name === object.name)?.size ?? 1);
    const ratios = listed.map(ratioOf);
    const spread = Math.max(...ratios) / Math.min(...ratios);
    expect(spread).toBeGreaterThan(4);
    const target = 100 * KiB;
    const chunks = await planChunks(listed, target, newlineFinder(s.store));

    // The bound (gzip-sizes.ts): a chunk's real bytes are its planned bytes (at most the target) times between
    // the lowest and the highest of (an estimated object's real ratio / the sample's ratio), read objects counting
    // 1; so never more than `spread` (the source's highest ratio over its lowest) times the target. Here the
    // repetitive kind's chunks come out at about 1.9 times the target and the other kind's at about 0.6 times.
    for (const chunk of chunks) {
      const real = realBytes(chunk, s);
      const off = chunk.slices.map((slice) => (read.has(slice.name) ? 1 : ratioOf(slice) / sampleRatio));
      const [low, high] = [Math.min(1, ...off), Math.max(1, ...off)];
      const rounding = chunk.slices.length * high;
      expect(chunk.bytes).toBeLessThanOrEqual(target);
      expect(real).toBeLessThanOrEqual(chunk.bytes * high + rounding);
      expect(real).toBeGreaterThanOrEqual(chunk.bytes * low - rounding);
      expect(real).toBeLessThanOrEqual(target * spread);
    }
    // Overall the plan is near the truth: the sample spans both kinds, so the real total is within 10 % of the plan.
    const planned = chunks.reduce((sum, c) => sum + c.bytes, 0);
    const realTotal = chunks.reduce((sum, c) => sum + realBytes(c, s), 0);
    expect(Math.abs(realTotal - planned) / realTotal).toBeLessThan(0.1);
  });

  it('weighs an object with an implausible trailer by its stored size and leaves it out of the ratio', async () => {
    // Every third object is plain text with a ".gz" name whose last 4 bytes claim 2 GiB: some are sampled.
    const s = sourceOf(
      dir('sizes-implausible'),
      Array.from({ length: 2 * SIZE_SAMPLE }, (_, i): [string, Buffer] => [
        name('events', i),
        i % 3 ? repetitive(i) : fake(i),
      ]),
    );
    const listed = await s.list();
    const read = new Set(trailerReads(s));
    const readFakes = listed.filter((o) => read.has(o.name) && !s.gzip.has(o.name));
    expect(readFakes.length).toBeGreaterThan(0);
    for (const o of readFakes) expect(o.uncompressedSize).toBe(o.size);
    // The estimate comes from the real gzip objects read only: the fakes' 2 GiB never enter it.
    const ratio = expectedRatio(listed, read, s);
    expect(ratio).toBeGreaterThan(5);
    expect(ratio).toBeLessThan(100);
    for (const o of listed.filter((x) => !read.has(x.name))) {
      expect(o.uncompressedSize).toBe(Math.round(o.size * ratio));
    }
  });

  it('weighs every object by its stored size when no sampled trailer is plausible', async () => {
    const s = sourceOf(
      dir('sizes-all-implausible'),
      Array.from({ length: 2 * SIZE_SAMPLE }, (_, i): [string, Buffer] => [name('events', i), fake(i)]),
    );
    const listed = await s.list();
    expect(s.reads).toHaveLength(SIZE_SAMPLE);
    expect(listed.every((o) => o.uncompressedSize === o.size)).toBe(true);
  });
});

describe('listSource: named objects', () => {
  const dir = useTempDirs();

  /** The store with each stat held until released, counting how many are in flight at once. */
  function slowStats(store: LocalBucketStore) {
    let inFlight = 0;
    let most = 0;
    const stats: string[] = [];
    const slow = Object.create(store) as LocalBucketStore;
    slow.stat = async (bucket, objectName) => {
      stats.push(objectName);
      inFlight += 1;
      most = Math.max(most, inFlight);
      // A round trip: other stats may start meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      return store.stat(bucket, objectName);
    };
    return { slow, stats, most: () => most };
  }

  const named = (count: number) =>
    Array.from({ length: count }, (_, i): [string, Buffer] => [name('n', i), repetitive(i)]);

  it('stats the named objects concurrently, not one round trip after another, and lists each once', async () => {
    const s = sourceOf(dir('list-source-named'), named(300));
    const { slow, stats, most } = slowStats(s.store);
    const uris = [...s.real.keys()].reverse().map((n) => `gs://${BUCKET}/${n}`);
    const listed = await listSource(slow, { objects: [...uris, uris[5]], prefixes: [] });
    expect(listed).toHaveLength(300);
    expect(stats).toHaveLength(301);
    expect(most()).toBeGreaterThan(8);
    // The same plan as the prefix listing of the same objects.
    expect(listed).toEqual(await listSource(s.store, { objects: [], prefixes: [`gs://${BUCKET}/`] }));
  });

  it('reports the first missing object in request order, however the stats finish', async () => {
    const s = sourceOf(dir('list-source-named'), named(40));
    const { slow } = slowStats(s.store);
    const uris = [...s.real.keys()].map((n) => `gs://${BUCKET}/${n}`);
    uris.splice(30, 0, `gs://${BUCKET}/missing-b.gz`);
    uris.splice(7, 0, `gs://${BUCKET}/missing-a.gz`);
    await expect(listSource(slow, { objects: uris, prefixes: [] })).rejects.toMatchObject({
      code: 'sourceNotFound',
      message: `source object gs://${BUCKET}/missing-a.gz does not exist`,
    });
  });
});

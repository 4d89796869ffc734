import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { LocalBucketStore } from '../../../../shared/adapters/local/local-bucket-store';
import { MAX_SLICES_PER_CHUNK, isGzipObject, planChunks } from '../../../../shared/domain/source/plan-chunks';
import type {
  NewlineFinder,
  PlannableObject,
  PlannedChunk,
} from '../../../../shared/domain/source/plan-chunks';
import { listSource, newlineFinder } from '../../../../shared/domain/source/list-source';
import { useTempDirs } from '../../../support/temp-dir';

const NEWLINE = 0x0a;
const MEMORY_BUCKET = 'memory-bucket';

/** One generated source object: its lines (no "\n" inside), whether the last one is terminated, and its gzip flag. */
interface ObjectSpec {
  lines: string[];
  trailingNewline: boolean;
  gzip: boolean;
}

/** What the checker knows about one object of the plan's input. */
interface KnownObject {
  object: PlannableObject;
  bytes: Buffer;
  lines: string[];
}

const keyOf = (o: { bucket: string; name: string }): string => `${o.bucket}/${o.name}`;

// ---------------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------------

const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const multiByte = fc.constantFrom('é', '字', '🎉');
const lineChar = fc.oneof({ weight: 5, arbitrary: printableAscii }, { weight: 1, arbitrary: multiByte });
const lineArb = fc.string({ unit: lineChar, maxLength: 14 });

/**
 * When the last line is unterminated and empty, the serialised bytes could not tell it apart from a terminated
 * previous line, so that case is normalised to a terminated last line.
 */
function normalise(spec: ObjectSpec): ObjectSpec {
  const last = spec.lines[spec.lines.length - 1];
  return last === '' && !spec.trailingNewline ? { ...spec, trailingNewline: true } : spec;
}

/** An object: its lines (some objects empty), whether the last one ends with "\n", and sometimes a gzip flag. */
const objectSpecArb: fc.Arbitrary<ObjectSpec> = fc
  .record({
    lines: fc.oneof(
      { weight: 1, arbitrary: fc.constant<string[]>([]) },
      { weight: 6, arbitrary: fc.array(lineArb, { maxLength: 12 }) },
    ),
    trailingNewline: fc.boolean(),
    gzip: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map(normalise);

const sourceArb = fc.array(objectSpecArb, { maxLength: 10 });
const targetArb = fc.integer({ min: 1, max: 200 });

function serialise(spec: ObjectSpec): Buffer {
  if (spec.lines.length === 0) return Buffer.alloc(0);
  return Buffer.from(spec.lines.join('\n') + (spec.trailingNewline ? '\n' : ''), 'utf8');
}

function inMemory(
  specs: readonly ObjectSpec[],
  name: (index: number, spec: ObjectSpec) => string,
): KnownObject[] {
  return specs.map((spec, index) => {
    const bytes = serialise(spec);
    return {
      object: { bucket: MEMORY_BUCKET, name: name(index, spec), size: bytes.length, gzip: spec.gzip },
      bytes,
      lines: spec.lines,
    };
  });
}

/** The NewlineFinder contract, straight over the bytes: just past the first "\n" at or after `offset`, else size. */
function memoryFinder(
  known: readonly KnownObject[],
  calls?: Array<{ key: string; offset: number }>,
): NewlineFinder {
  const byKey = new Map(known.map((k) => [keyOf(k.object), k.bytes]));
  return (object, offset) => {
    calls?.push({ key: keyOf(object), offset });
    const bytes = byKey.get(keyOf(object));
    if (!bytes) return Promise.reject(new Error(`unknown object ${keyOf(object)}`));
    const at = bytes.indexOf(NEWLINE, offset);
    return Promise.resolve(at === -1 ? object.size : at + 1);
  };
}

/** Lines of a byte range: split on "\n", dropping the empty remainder after a final "\n". Decodes each line alone. */
function linesOf(bytes: Buffer): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, start)) {
    lines.push(bytes.subarray(start, at).toString('utf8'));
    start = at + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start).toString('utf8'));
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// The invariants, checked on any plan
// ---------------------------------------------------------------------------------------------------------------

function checkPlan(
  known: readonly KnownObject[],
  targetBytes: number,
  chunks: readonly PlannedChunk[],
): void {
  const byKey = new Map(known.map((k) => [keyOf(k.object), k]));
  const slices = chunks.flatMap((chunk) => chunk.slices);
  const slicesOf = new Map<string, PlannedChunk['slices']>();
  for (const slice of slices) slicesOf.set(keyOf(slice), [...(slicesOf.get(keyOf(slice)) ?? []), slice]);

  // (d) chunk indexes 0..n-1 in order; bytes = sum of slice sizes; 1..MAX_SLICES_PER_CHUNK slices.
  chunks.forEach((chunk, i) => {
    expect(chunk.index).toBe(i);
    expect(chunk.slices.length).toBeGreaterThanOrEqual(1);
    expect(chunk.slices.length).toBeLessThanOrEqual(MAX_SLICES_PER_CHUNK);
    expect(chunk.bytes).toBe(chunk.slices.reduce((sum, s) => sum + (s.end - s.start), 0));
  });

  // Every slice names a known object, with its gzip flag, and holds at least one byte.
  for (const slice of slices) {
    const k = byKey.get(keyOf(slice));
    expect(k).toBeDefined();
    if (!k) return;
    expect(slice.gzip).toBe(k.object.gzip);
    expect(slice.start).toBeGreaterThanOrEqual(0);
    expect(slice.end).toBeLessThanOrEqual(k.object.size);
    expect(slice.start).toBeLessThan(slice.end);
  }

  for (const k of known) {
    const own = [...(slicesOf.get(keyOf(k.object)) ?? [])].sort((a, b) => a.start - b.start);
    const { size, gzip } = k.object;
    // (a) empty objects produce no slice; the others are tiled [0, size) with no gap and no overlap.
    if (size === 0) {
      expect(own).toEqual([]);
      continue;
    }
    let next = 0;
    for (const s of own) {
      expect(s.start).toBe(next);
      next = s.end;
    }
    expect(next).toBe(size);

    // (c) gzip objects and small plain objects are exactly one whole slice.
    if (gzip || size <= targetBytes) {
      expect(own.map((s) => [s.start, s.end])).toEqual([[0, size]]);
    }

    // (b) split points never cut a line.
    if (!gzip) {
      for (const s of own) {
        if (s.start !== 0) expect(k.bytes[s.start - 1]).toBe(NEWLINE);
      }
    }
  }

  // (e) a chunk exceeds the target only if it is a single slice: a gzip object, or a plain piece that overshoots
  // only to finish the line straddling the target (its end is the first line boundary at or after start + target).
  for (const chunk of chunks) {
    if (chunk.bytes <= targetBytes) continue;
    expect(chunk.slices).toHaveLength(1);
    const [slice] = chunk.slices;
    const k = slice && byKey.get(keyOf(slice));
    if (!slice || !k || slice.gzip) continue;
    const boundary = k.bytes.indexOf(NEWLINE, slice.start + targetBytes - 1);
    expect(slice.end).toBe(boundary === -1 ? k.object.size : boundary + 1);
  }

  // (h) greedy grouping: a chunk is closed only when the next slice would overflow it or it is full.
  for (let i = 0; i + 1 < chunks.length; i += 1) {
    const chunk = chunks[i];
    const first = chunks[i + 1]?.slices[0];
    if (!chunk || !first) continue;
    const overflow = chunk.bytes + (first.end - first.start) > targetBytes;
    expect(overflow || chunk.slices.length === MAX_SLICES_PER_CHUNK).toBe(true);
  }

  // (f) order: slices in chunk order are the non-empty objects in input order, each reassembled byte-identically.
  const reassembled: Array<{ key: string; parts: Buffer[] }> = [];
  for (const slice of slices) {
    const k = byKey.get(keyOf(slice));
    if (!k) continue;
    const previous = reassembled[reassembled.length - 1];
    const part = k.bytes.subarray(slice.start, slice.end);
    if (previous && previous.key === keyOf(slice)) previous.parts.push(part);
    else reassembled.push({ key: keyOf(slice), parts: [part] });
  }
  const nonEmpty = known.filter((k) => k.object.size > 0);
  expect(reassembled.map((r) => r.key)).toEqual(nonEmpty.map((k) => keyOf(k.object)));
  reassembled.forEach((r, i) => {
    expect(Buffer.concat(r.parts).equals(nonEmpty[i]?.bytes ?? Buffer.alloc(0))).toBe(true);
  });

  // (g) lines: splitting every slice on "\n" on its own yields exactly the original lines of each object.
  for (const k of known) {
    const lines = (slicesOf.get(keyOf(k.object)) ?? []).flatMap((s) =>
      linesOf(k.bytes.subarray(s.start, s.end)),
    );
    expect(lines).toEqual(k.lines);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

const memoryName = (index: number): string => `object-${String(index).padStart(3, '0')}.ndjson`;

describe('planChunks (properties, in-memory NewlineFinder)', () => {
  it('tiles every object, never cuts a line, keeps order and respects the chunk limits', async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, targetArb, async (specs, targetBytes) => {
        const known = inMemory(specs, memoryName);
        const calls: Array<{ key: string; offset: number }> = [];
        const chunks = await planChunks(
          known.map((k) => k.object),
          targetBytes,
          memoryFinder(known, calls),
        );
        checkPlan(known, targetBytes, chunks);

        // The finder is asked only about plain objects larger than the target, at offsets inside them.
        const byKey = new Map(known.map((k) => [keyOf(k.object), k.object]));
        for (const call of calls) {
          const object = byKey.get(call.key);
          expect(object?.gzip).toBe(false);
          expect(object && object.size > targetBytes).toBe(true);
          expect(call.offset).toBeGreaterThanOrEqual(0);
          expect(call.offset).toBeLessThan(object?.size ?? 0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('holds with tiny targets and long lines, where pieces must overshoot the target', async () => {
    const longLines = fc.array(
      fc.record({
        lines: fc.array(fc.string({ unit: lineChar, minLength: 0, maxLength: 40 }), {
          minLength: 1,
          maxLength: 8,
        }),
        trailingNewline: fc.boolean(),
        gzip: fc.constant(false),
      }),
      { minLength: 1, maxLength: 5 },
    );
    await fc.assert(
      fc.asyncProperty(longLines, fc.integer({ min: 1, max: 8 }), async (raw, targetBytes) => {
        const specs = raw.map(normalise);
        const known = inMemory(specs, memoryName);
        const chunks = await planChunks(
          known.map((k) => k.object),
          targetBytes,
          memoryFinder(known),
        );
        checkPlan(known, targetBytes, chunks);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic: planning twice gives the same chunks', async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, targetArb, async (specs, targetBytes) => {
        const known = inMemory(specs, memoryName);
        const objects = known.map((k) => k.object);
        const first = await planChunks(objects, targetBytes, memoryFinder(known));
        const second = await planChunks(objects, targetBytes, memoryFinder(known));
        expect(second).toEqual(first);
      }),
      { numRuns: 100 },
    );
  });
});

describe('planChunks over a LocalBucketStore (listSource + real newlineFinder)', () => {
  let root: string;
  let store: LocalBucketStore;
  let run = 0;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'planner-test-'));
    store = new LocalBucketStore(root);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Writes the objects into a fresh bucket; gzip objects get a ".gz" name so that listSource flags them. */
  async function writeBucket(specs: readonly ObjectSpec[]): Promise<KnownObject[]> {
    run += 1;
    const bucket = `run-${run}`;
    await store.createBucket(bucket);
    const known = specs.map((spec, index): KnownObject => {
      const bytes = serialise(spec);
      const name = `part-${String(index).padStart(3, '0')}.ndjson${spec.gzip ? '.gz' : ''}`;
      fs.writeFileSync(path.join(root, bucket, name), bytes);
      return { object: { bucket, name, size: bytes.length, gzip: spec.gzip }, bytes, lines: spec.lines };
    });
    return known;
  }

  it('newlineFinder agrees with the NewlineFinder contract for any window size and offset', async () => {
    const bytesArb = fc.array(fc.oneof(lineArb, fc.constant('\n'), fc.constant('\n\n')), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        bytesArb,
        fc.integer({ min: 1, max: 17 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        async (parts, windowBytes, rawOffsets) => {
          const bytes = Buffer.from(parts.join(''), 'utf8');
          run += 1;
          const bucket = `finder-${run}`;
          await store.createBucket(bucket);
          fs.writeFileSync(path.join(root, bucket, 'object.ndjson'), bytes);
          const object: PlannableObject = { bucket, name: 'object.ndjson', size: bytes.length, gzip: false };
          const find = newlineFinder(store, windowBytes);
          for (const raw of rawOffsets) {
            const offset = raw % (bytes.length + 1);
            const at = bytes.indexOf(NEWLINE, offset);
            await expect(find(object, offset)).resolves.toBe(at === -1 ? bytes.length : at + 1);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('plans from a listed bucket with the windowed finder and keeps every invariant', async () => {
    await fc.assert(
      fc.asyncProperty(
        sourceArb,
        targetArb,
        fc.integer({ min: 3, max: 17 }),
        async (specs, targetBytes, windowBytes) => {
          const known = await writeBucket(specs);
          const bucket = known[0]?.object.bucket ?? `run-${run}`;
          // These ".gz" objects hold plain bytes: weigh them by stored size, as the reference finder does.
          const listed = (await listSource(store, { objects: [], prefixes: [`gs://${bucket}/`] })).map(
            ({ uncompressedSize: _ignored, ...object }) => object,
          );
          // listSource drops empty objects, keeps name order and flags ".gz" names as gzip.
          expect(listed).toEqual(known.filter((k) => k.object.size > 0).map((k) => k.object));
          const chunks = await planChunks(listed, targetBytes, newlineFinder(store, windowBytes));
          checkPlan(known, targetBytes, chunks);
          // The windowed finder must plan exactly as the contract's reference does.
          expect(chunks).toEqual(await planChunks(listed, targetBytes, memoryFinder(known)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------------------------------

describe('gzip objects are weighed by their uncompressed size', () => {
  const dir = useTempDirs();

  it('reads the size from the gzip trailer and plans with it', async () => {
    const store = new LocalBucketStore(dir('gzip-size'));
    await store.createBucket('gz-bucket');
    const text = 'x'.repeat(50_000) + '\n';
    const compressed = gzipSync(Buffer.from(text.repeat(4)));
    await store.writeOnce('gz-bucket', 'a.ndjson.gz', Readable.from([compressed]), {
      contentType: 'application/gzip',
    });
    await store.writeOnce('gz-bucket', 'b.ndjson', Readable.from([Buffer.from('{}\n')]), {
      contentType: 'text/plain',
    });
    const listed = await listSource(store, { objects: [], prefixes: ['gs://gz-bucket/'] });
    expect(listed[0]).toMatchObject({
      name: 'a.ndjson.gz',
      size: compressed.length,
      uncompressedSize: 200_004,
    });
    const chunks = await planChunks(listed, 100_000, newlineFinder(store));
    // Far below the target compressed, far above it uncompressed: the gzip object is a chunk of its own.
    expect(chunks.map((c) => [c.bytes, c.slices.map((s) => s.name)])).toEqual([
      [200_004, ['a.ndjson.gz']],
      [3, ['b.ndjson']],
    ]);
  });

  it('ignores an implausible trailer of an object that is not really gzip', async () => {
    const store = new LocalBucketStore(dir('gzip-fake'));
    await store.createBucket('gz-bucket');
    const fake = Buffer.concat([
      Buffer.from('not gzip at all, just text'),
      Buffer.from([0xff, 0xff, 0xff, 0x7f]),
    ]);
    await store.writeOnce('gz-bucket', 'fake.gz', Readable.from([fake]), { contentType: 'text/plain' });
    const [listed] = await listSource(store, { objects: ['gs://gz-bucket/fake.gz'], prefixes: [] });
    expect(listed?.uncompressedSize).toBe(listed?.size);
  });
});

const plain = (name: string, text: string): KnownObject => {
  const bytes = Buffer.from(text, 'utf8');
  return {
    object: { bucket: MEMORY_BUCKET, name, size: bytes.length, gzip: false },
    bytes,
    lines: linesOf(bytes),
  };
};

const ranges = (chunks: readonly PlannedChunk[]): Array<Array<[string, number, number]>> =>
  chunks.map((c) => c.slices.map((s): [string, number, number] => [s.name, s.start, s.end]));

describe('planChunks (examples)', () => {
  it.each<{
    title: string;
    known: KnownObject[];
    target: number;
    expected: Array<Array<[string, number, number]>>;
  }>([
    {
      title: 'one big plain object with target 10 is split at newlines',
      // Lines of 5 bytes ("aaaa\n"): the byte at start + 9 is always a "\n", so every piece is exactly 10 bytes.
      known: [plain('big.ndjson', 'aaaa\nbbbb\ncccc\ndddd\neeee\n')],
      target: 10,
      expected: [[['big.ndjson', 0, 10]], [['big.ndjson', 10, 20]], [['big.ndjson', 20, 25]]],
    },
    {
      title: 'a piece finishes the line that straddles the target',
      known: [plain('big.ndjson', 'aaa\nbbbbbbbb\ncc\n')],
      target: 6,
      // start 0: first "\n" at or after 5 is at 12 -> [0, 13); the rest (3 bytes) fits.
      expected: [[['big.ndjson', 0, 13]], [['big.ndjson', 13, 16]]],
    },
    {
      title: 'a piece without any newline is a whole, oversize slice',
      known: [plain('flat.ndjson', 'x'.repeat(25))],
      target: 10,
      expected: [[['flat.ndjson', 0, 25]]],
    },
    {
      title: 'many tiny objects are grouped in order',
      known: ['a\n', 'bb\n', 'c\n', 'ddd\n', 'e\n', 'f\n'].map((t, i) => plain(`tiny-${i}`, t)),
      target: 6,
      expected: [
        [
          ['tiny-0', 0, 2],
          ['tiny-1', 0, 3],
        ],
        [
          ['tiny-2', 0, 2],
          ['tiny-3', 0, 4],
        ],
        [
          ['tiny-4', 0, 2],
          ['tiny-5', 0, 2],
        ],
      ],
    },
    {
      title: 'empty objects are skipped',
      known: [plain('empty-1', ''), plain('one', 'x\n'), plain('empty-2', '')],
      target: 100,
      expected: [[['one', 0, 2]]],
    },
  ])('$title', async ({ known, target, expected }) => {
    const chunks = await planChunks(
      known.map((k) => k.object),
      target,
      memoryFinder(known),
    );
    expect(ranges(chunks)).toEqual(expected);
    checkPlan(known, target, chunks);
  });

  it('keeps a gzip object whole however large it is', async () => {
    const bytes = Buffer.from('line\n'.repeat(40));
    const known: KnownObject[] = [
      {
        object: { bucket: MEMORY_BUCKET, name: 'big.ndjson.gz', size: bytes.length, gzip: true },
        bytes,
        lines: [],
      },
    ];
    const finder: NewlineFinder = () => Promise.reject(new Error('a gzip object must never be split'));
    const chunks = await planChunks(
      known.map((k) => k.object),
      10,
      finder,
    );
    expect(chunks).toEqual([
      {
        index: 0,
        bytes: 200,
        slices: [{ bucket: MEMORY_BUCKET, name: 'big.ndjson.gz', gzip: true, start: 0, end: 200 }],
      },
    ]);
  });

  it('respects MAX_SLICES_PER_CHUNK with 1200 one-byte objects', async () => {
    const known = Array.from({ length: 1200 }, (_, i) => plain(`one-${String(i).padStart(4, '0')}`, '\n'));
    const chunks = await planChunks(
      known.map((k) => k.object),
      1_000_000,
      memoryFinder(known),
    );
    expect(chunks.map((c) => c.slices.length)).toEqual([MAX_SLICES_PER_CHUNK, MAX_SLICES_PER_CHUNK, 200]);
    expect(chunks.map((c) => c.bytes)).toEqual([500, 500, 200]);
    checkPlan(known, 1_000_000, chunks);
  });

  it('returns no chunk for no object', async () => {
    await expect(planChunks([], 10, memoryFinder([]))).resolves.toEqual([]);
  });
});

describe('isGzipObject', () => {
  it.each<{ info: { name: string; contentType?: string; contentEncoding?: string }; gzip: boolean }>([
    { info: { name: 'events.ndjson.gz' }, gzip: true },
    { info: { name: 'EVENTS.NDJSON.GZ' }, gzip: true },
    { info: { name: 'events.ndjson.gzip' }, gzip: true },
    { info: { name: 'events.ndjson.GZip' }, gzip: true },
    { info: { name: 'events.ndjson', contentEncoding: 'gzip' }, gzip: true },
    { info: { name: 'events.ndjson', contentType: 'application/gzip' }, gzip: true },
    { info: { name: 'events.ndjson', contentType: 'application/x-gzip' }, gzip: true },
    { info: { name: 'events.ndjson' }, gzip: false },
    { info: { name: 'events.ndjson', contentType: 'application/x-ndjson' }, gzip: false },
    { info: { name: 'events.gz.ndjson' }, gzip: false },
    { info: { name: 'events.tgz' }, gzip: false },
  ])('$info -> $gzip', ({ info, gzip }) => {
    expect(isGzipObject(info)).toBe(gzip);
  });
});

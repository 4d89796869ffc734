import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DEMO_EVENT_NAMES, generateDemoSource } from '../../../shared/cli/demo-data';
import type { DemoSourceOptions, DemoSourceResult } from '../../../shared/cli/demo-data';

type MalformedKind = 'not-json' | 'not-object' | 'missing-name' | 'missing-time' | 'wrong-types';
type JsonRecord = { [key: string]: unknown };

interface ValidLine {
  kind: 'valid';
  name: string;
  timeMs: number;
  isoTime: boolean;
  props: JsonRecord;
  bytes: number;
}
type Classified = ValidLine | { kind: 'blank' } | { kind: MalformedKind };

interface ObjectContent {
  name: string;
  gzip: boolean;
  lines: Classified[];
}

const MALFORMED_KINDS: readonly MalformedKind[] = [
  'not-json',
  'not-object',
  'missing-name',
  'missing-time',
  'wrong-types',
];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const PLATFORMS = ['Android', 'iOS', 'Web'];
const DAY_MS = 86_400_000;

function makeTempDir(): string {
  return fs.mkdtempSync(`${os.tmpdir()}/demo-data-`);
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir();
  try {
    return await run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function timeToMs(time: unknown): number | undefined {
  if (typeof time === 'number') return Number.isInteger(time) ? time * 1000 : undefined;
  if (typeof time !== 'string' || !ISO_TIME.test(time)) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

function isProfile(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value.identity === 'string' &&
    (value.email === undefined || typeof value.email === 'string') &&
    PLATFORMS.includes(value.platform as string)
  );
}

function parseJson(line: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(line) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Independent of the generator: decides what a consumer would make of one line. */
function classify(line: string): Classified {
  if (line === '') return { kind: 'blank' };
  const parsed = parseJson(line);
  if (!parsed.ok) return { kind: 'not-json' };
  const record = parsed.value;
  if (!isRecord(record)) return { kind: 'not-object' };
  if (!('name' in record)) return { kind: 'missing-name' };
  if (!('time' in record)) return { kind: 'missing-time' };
  const timeMs = timeToMs(record.time);
  if (typeof record.name !== 'string' || timeMs === undefined || !isProfile(record.profile)) {
    return { kind: 'wrong-types' };
  }
  if (!isRecord(record.props)) return { kind: 'wrong-types' };
  return {
    kind: 'valid',
    name: record.name,
    timeMs,
    isoTime: typeof record.time === 'string',
    props: record.props,
    bytes: Buffer.byteLength(line),
  };
}

function readContent(dir: string, name: string, gzip: boolean): string {
  const raw = fs.readFileSync(path.join(dir, name));
  if (!gzip) return raw.toString('utf8');
  expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
  return gunzipSync(raw).toString('utf8');
}

function readObjects(dir: string, result: DemoSourceResult): ObjectContent[] {
  return result.objects.map(({ name, gzip }) => {
    const text = readContent(dir, name, gzip);
    if (text !== '') expect(text.endsWith('\n')).toBe(true);
    const lines = text === '' ? [] : text.slice(0, -1).split('\n');
    return { name, gzip, lines: lines.map(classify) };
  });
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => fs.statSync(path.join(dir, entry)).isFile())
    .map((entry) => entry.split(path.sep).join('/'))
    .sort();
}

function validLines(objects: readonly ObjectContent[]): ValidLine[] {
  return objects.flatMap((object) => object.lines.filter((line): line is ValidLine => line.kind === 'valid'));
}

function countKind(objects: readonly ObjectContent[], kind: Classified['kind']): number {
  return objects.reduce((sum, object) => sum + object.lines.filter((line) => line.kind === kind).length, 0);
}

function malformedCount(objects: readonly ObjectContent[]): number {
  return MALFORMED_KINDS.reduce((sum, kind) => sum + countKind(objects, kind), 0);
}

function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))];
}

function expectTimesInWindow(lines: readonly ValidLine[], from: Date, days: number): void {
  const start = from.getTime();
  const end = start + days * DAY_MS;
  const outside = lines.filter((line) => line.timeMs < start || line.timeMs >= end);
  expect(outside).toEqual([]);
}

function expectCountsMatchDisk(
  dir: string,
  result: DemoSourceResult,
  options: Omit<DemoSourceOptions, 'dir'>,
): void {
  const objects = readObjects(dir, result);
  expect(validLines(objects)).toHaveLength(options.events);
  expect(result.sourceRecords).toBe(options.events);
  expect(malformedCount(objects)).toBe(options.malformedLines ?? 24);
  expect(result.malformedLines).toBe(options.malformedLines ?? 24);
  for (const object of objects) {
    const reported = result.objects.find((candidate) => candidate.name === object.name);
    expect(reported?.lines).toBe(object.lines.length);
  }
  expectTimesInWindow(validLines(objects), options.from, options.days);
}

describe('generateDemoSource with 10k events', () => {
  const options: Omit<DemoSourceOptions, 'dir'> = {
    events: 10_000,
    from: new Date('2026-11-01T00:00:00Z'),
    days: 2,
    seed: 7,
  };
  let dir: string;
  let result: DemoSourceResult;
  let objects: ObjectContent[];
  let valid: ValidLine[];

  beforeAll(async () => {
    dir = makeTempDir();
    result = await generateDemoSource({ ...options, dir });
    objects = readObjects(dir, result);
    valid = validLines(objects);
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports exactly the objects on disk, sorted by name, with their sizes', () => {
    const names = result.objects.map((object) => object.name);
    expect(listFiles(dir)).toEqual(names);
    expect([...names].sort()).toEqual(names);
    for (const object of result.objects) {
      expect(object.bytes).toBe(fs.statSync(path.join(dir, object.name)).size);
      expect(object.gzip).toBe(object.name.endsWith('.gz'));
    }
    expect(result.bytes).toBe(result.objects.reduce((sum, object) => sum + object.bytes, 0));
  });

  it('writes exactly `events` valid lines and 24 malformed lines by default, plus a few blank lines', () => {
    expect(valid).toHaveLength(10_000);
    expect(result.sourceRecords).toBe(10_000);
    expect(malformedCount(objects)).toBe(24);
    expect(result.malformedLines).toBe(24);
    expect(countKind(objects, 'blank')).toBeGreaterThan(0);
    expect(countKind(objects, 'blank')).toBeLessThan(10);
    for (const object of objects) {
      expect(result.objects.find((reported) => reported.name === object.name)?.lines).toBe(
        object.lines.length,
      );
    }
  });

  it.each(MALFORMED_KINDS)('includes malformed lines of kind %s', (kind) => {
    expect(countKind(objects, kind)).toBeGreaterThanOrEqual(4);
  });

  it('spreads malformed lines over several objects, gzip and the large backfill included', () => {
    const withMalformed = objects.filter((object) => malformedCount([object]) > 0);
    expect(withMalformed.length).toBeGreaterThanOrEqual(12);
    expect(withMalformed.some((object) => object.name.includes('backfill'))).toBe(true);
    expect(withMalformed.some((object) => object.gzip)).toBe(true);
  });

  it('keeps every valid time inside the window, about 10% of them as ISO strings', () => {
    expectTimesInWindow(valid, options.from, options.days);
    const isoShare = valid.filter((line) => line.isoTime).length / valid.length;
    expect(isoShare).toBeGreaterThan(0.07);
    expect(isoShare).toBeLessThan(0.13);
  });

  it('uses every demo event name at least 50 times, with a skewed distribution', () => {
    const counts = countBy(valid.map((line) => line.name));
    expect([...counts.keys()].sort()).toEqual([...DEMO_EVENT_NAMES].sort());
    expect(result.eventNames).toEqual([...DEMO_EVENT_NAMES]);
    for (const name of DEMO_EVENT_NAMES) expect(counts.get(name)).toBeGreaterThanOrEqual(50);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    expect(sorted[0]).toBeGreaterThan(10 * sorted[sorted.length - 1]);
  });

  it('puts each hourly event in the hour its object is named after', () => {
    const hourly = objects.filter((object) => !object.name.includes('backfill'));
    for (const object of hourly) {
      const match = /^events\/(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/part-\d{3}\.ndjson(\.gz)?$/.exec(
        object.name,
      );
      expect(match).not.toBeNull();
      const hourStart = Date.parse(`${match?.[1]}T${match?.[2]}:00:00Z`);
      const outside = object.lines.filter(
        (line) => line.kind === 'valid' && (line.timeMs < hourStart || line.timeMs >= hourStart + 3_600_000),
      );
      expect(outside).toEqual([]);
    }
    const hours = new Set(hourly.map((object) => object.name.split('/part-')[0]));
    expect(hours.size).toBe(options.days * 24);
  });

  it('gzips about 30% of the hours and keeps about 25% of events in one large backfill object', () => {
    const hours = countBy(
      result.objects.filter((object) => object.gzip).map((object) => object.name.split('/part-')[0]),
    );
    expect(hours.size / (options.days * 24)).toBeGreaterThan(0.25);
    expect(hours.size / (options.days * 24)).toBeLessThan(0.35);
    const backfill = objects.find((object) => object.name === 'events/backfill/large-000.ndjson');
    expect(backfill?.gzip).toBe(false);
    const share = validLines(backfill === undefined ? [] : [backfill]).length / valid.length;
    expect(share).toBeCloseTo(0.25, 2);
    const largest = Math.max(...result.objects.map((object) => object.bytes));
    expect(result.objects.find((object) => object.bytes === largest)?.name).toBe(backfill?.name);
  });

  it('names objects with printable ASCII only', () => {
    for (const object of result.objects) expect(object.name).toMatch(/^[\x21-\x7e]+$/);
  });

  it('writes lines of typically 250-500 bytes', () => {
    const sizes = valid.map((line) => line.bytes);
    expect(quantile(sizes, 0.5)).toBeGreaterThanOrEqual(250);
    expect(quantile(sizes, 0.5)).toBeLessThanOrEqual(500);
    expect(quantile(sizes, 0.1)).toBeGreaterThanOrEqual(200);
    expect(quantile(sizes, 0.9)).toBeLessThanOrEqual(600);
  });

  it('gives every event 3 to 8 props', () => {
    const keyCounts = countBy(valid.map((line) => Object.keys(line.props).length));
    expect(Math.min(...keyCounts.keys())).toBe(3);
    expect(Math.max(...keyCounts.keys())).toBe(8);
  });

  const awkwardKeys: [string, (key: string) => boolean][] = [
    ['a space', (key) => key.includes(' ')],
    ['a slash', (key) => key.includes('/')],
    ['a tab', (key) => key.includes('\t')],
    // eslint-disable-next-line no-control-regex
    ['a control character', (key) => /[\x00-\x08\x0b-\x1f]/.test(key)],
  ];
  it.each(awkwardKeys)('uses prop keys containing %s', (_label, matches) => {
    expect(valid.some((line) => Object.keys(line.props).some(matches))).toBe(true);
  });

  const awkwardValues: [string, (value: string) => boolean][] = [
    ['a newline', (value) => value.includes('\n')],
    ['a tab', (value) => value.includes('\t')],
    ['an emoji', (value) => /\p{Extended_Pictographic}/u.test(value)],
  ];
  it.each(awkwardValues)('uses string prop values containing %s', (_label, matches) => {
    expect(
      valid.some((line) => Object.values(line.props).some((v) => typeof v === 'string' && matches(v))),
    ).toBe(true);
  });

  const valueShapes: [string, (value: unknown) => boolean][] = [
    ['number', (value) => typeof value === 'number'],
    ['string', (value) => typeof value === 'string'],
    ['boolean', (value) => typeof value === 'boolean'],
    ['null', (value) => value === null],
    ['array', (value) => Array.isArray(value)],
    ['nested object', isRecord],
  ];
  it.each(valueShapes)('uses %s prop values', (_label, matches) => {
    expect(valid.some((line) => Object.values(line.props).some(matches))).toBe(true);
  });
});

describe('DEMO_EVENT_NAMES', () => {
  it('holds about 20 distinct names', () => {
    expect(new Set(DEMO_EVENT_NAMES).size).toBe(DEMO_EVENT_NAMES.length);
    expect(DEMO_EVENT_NAMES.length).toBeGreaterThanOrEqual(18);
    expect(DEMO_EVENT_NAMES.length).toBeLessThanOrEqual(24);
  });

  const required: [string, (name: string) => boolean][] = [
    ['plain "App Launched"', (name) => name === 'App Launched'],
    ['plain "Charged"', (name) => name === 'Charged'],
    ['a tab', (name) => name.includes('\t')],
    ['a slash', (name) => name === 'Checkout/Started'],
    ['Hindi', (name) => /\p{Script=Devanagari}/u.test(name)],
    ['Arabic', (name) => /\p{Script=Arabic}/u.test(name)],
    ['Korean', (name) => /\p{Script=Hangul}/u.test(name)],
    ['Japanese', (name) => /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(name)],
    ['an emoji', (name) => /\p{Extended_Pictographic}/u.test(name)],
    ['a BEL control character', (name) => name.includes('\u0007')],
    ['a NUL', (name) => name.includes('\u0000')],
    ['exactly ".."', (name) => name === '..'],
  ];
  it.each(required)('includes a name with %s', (_label, matches) => {
    expect(DEMO_EVENT_NAMES.some(matches)).toBe(true);
  });
});

describe('generateDemoSource determinism', () => {
  const options = { events: 10_000, from: new Date('2026-11-01T00:00:00Z'), days: 1, seed: 42 };

  function snapshot(dir: string): Map<string, Buffer> {
    return new Map(listFiles(dir).map((name) => [name, fs.readFileSync(path.join(dir, name))]));
  }

  it('writes byte-identical files for the same options', async () => {
    const generate = () =>
      withTempDir(async (dir) => ({
        result: await generateDemoSource({ ...options, dir }),
        files: snapshot(dir),
      }));
    const [first, second] = await Promise.all([generate(), generate()]);
    expect(second.result).toEqual(first.result);
    expect([...second.files.keys()]).toEqual([...first.files.keys()]);
    for (const [name, bytes] of first.files) expect(second.files.get(name)?.equals(bytes)).toBe(true);
  });

  it('writes different files for a different seed', async () => {
    const generate = (seed: number) =>
      withTempDir(async (dir) => {
        await generateDemoSource({ ...options, seed, dir });
        return snapshot(dir);
      });
    const [first, second] = await Promise.all([generate(42), generate(43)]);
    const backfill = 'events/backfill/large-000.ndjson';
    expect(second.get(backfill)?.equals(first.get(backfill) ?? Buffer.alloc(0))).toBe(false);
  });
});

describe('generateDemoSource options', () => {
  const cases: [string, Omit<DemoSourceOptions, 'dir'>][] = [
    [
      'custom malformed count',
      { events: 1_000, malformedLines: 7, from: new Date('2026-11-01T00:00:00Z'), days: 1, seed: 1 },
    ],
    ['default malformed count', { events: 500, from: new Date('2026-01-31T22:00:00Z'), days: 0.5, seed: 2 }],
    [
      'no events at all',
      { events: 0, malformedLines: 5, from: new Date('2026-11-01T00:00:00Z'), days: 1, seed: 3 },
    ],
    [
      'an unaligned window and no malformed lines',
      { events: 37, malformedLines: 0, from: new Date('2026-11-01T05:30:15.250Z'), days: 0.25, seed: 4 },
    ],
    [
      'a single malformed line',
      { events: 100, malformedLines: 1, from: new Date('2026-11-01T00:00:00Z'), days: 3, seed: 5 },
    ],
  ];

  it.each(cases)('counts match what is on disk with %s', async (_label, options) => {
    await withTempDir(async (dir) => {
      const result = await generateDemoSource({ ...options, dir });
      expectCountsMatchDisk(dir, result, options);
      expect(result.objects.map((object) => object.name)).toContain('events/backfill/large-000.ndjson');
    });
  });

  it('counts match what is on disk for arbitrary small inputs', async () => {
    const input = fc.record({
      events: fc.integer({ min: 0, max: 300 }),
      malformedLines: fc.integer({ min: 0, max: 12 }),
      seed: fc.integer(),
      days: fc.double({ min: 0.01, max: 3, noNaN: true }),
      from: fc.date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T00:00:00Z'),
        noInvalidDate: true,
      }),
    });
    await fc.assert(
      fc.asyncProperty(input, (options) =>
        withTempDir(async (dir) =>
          expectCountsMatchDisk(dir, await generateDemoSource({ ...options, dir }), options),
        ),
      ),
      { numRuns: 25 },
    );
  });

  const invalid: [string, Partial<DemoSourceOptions>][] = [
    ['negative events', { events: -1 }],
    ['fractional events', { events: 1.5 }],
    ['zero days', { days: 0 }],
    ['infinite days', { days: Number.POSITIVE_INFINITY }],
    ['negative malformed lines', { malformedLines: -2 }],
    ['an invalid start date', { from: new Date('not a date') }],
  ];
  it.each(invalid)('rejects %s', async (_label, override) => {
    await withTempDir(async (dir) => {
      const options = {
        dir,
        events: 10,
        from: new Date('2026-11-01T00:00:00Z'),
        days: 1,
        seed: 1,
        ...override,
      };
      await expect(generateDemoSource(options)).rejects.toThrow(RangeError);
    });
  });
});

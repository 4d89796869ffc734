import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Manifest } from '../../../../shared/domain/output/manifest';
import { exportDocSchema, paths } from '../../../../shared/domain/documents';
import { exportDocId } from '../../../../shared/domain/ids';
import type { Harness } from '../../../support/local-harness';
import {
  ACCOUNT,
  DESTINATION_BUCKET,
  SOURCE_BUCKET,
  createHarness,
  eventLines,
} from '../../../support/local-harness';
import { duckdbRows, sqlString } from '../../../support/duckdb';
import { asText, expectCell, sourceField } from '../../../support/source-oracle';

const DAY = '2026-02-01';

/** Source lines as the platform sends them: hostile names, Unicode, emoji, nesting, nulls, mixed types. */
const SOURCE = [
  `{"name":"Charged","time":"${DAY}T10:00:00Z","profile":{"identity":"u-1","email":"a@example.com"},"props":{"Amount":12.5,"Big":900719925474099,"Note":"naïve café 😀👍🏽","Cart":{"items":[{"sku":"a","qty":2}]},"ok":true}}`,
  `{"name":"Bell\\u0007\\"Rung\\", with, commas","time":1769941800,"props":{"Amount":null,"Big":-12,"Note":null,"Mixed":"text"}}`,
  `{"name":"=HYPERLINK(\\"http://evil\\")","time":"${DAY}T11:00:00+05:30","profile":{"identity":"ユーザー"},"props":{"Note":"line\\nbreak, \\"quoted\\"","Cart":{},"Tab\\tKey/\\u0001":"v"}}`,
  `{"name":"🎉 Promo/../..","time":1769950800123,"profile":{"identity":null},"props":{"Amount":0.1,"Big":12,"ok":false,"Mixed":1},"tags":["a",{"b":[1,2]}]}`,
  `{"name":"Charged","time":"${DAY}T23:59:59.999Z","props":{"Amount":-1.5,"Note":"تم الشراء","Big":9007199254740991}}`,
];

/** What the record path makes of each source line (sanitised names, normalised time): the oracle's input. */
const EXPECTED_TIMES = [
  Date.parse(`${DAY}T10:00:00Z`),
  1769941800 * 1000,
  Date.parse(`${DAY}T11:00:00+05:30`),
  1769950800123,
  Date.parse(`${DAY}T23:59:59.999Z`),
];

async function exportAs(h: Harness, format: 'csv' | 'parquet', requestId = 'req-1') {
  await h.publishAndDrain(h.request({ requestId, format }));
  const objects = await h.destinationObjects();
  const manifests = [...objects.entries()].filter(([n]) => n.endsWith('/manifest.json'));
  const manifest = manifests
    .map(([, bytes]) => JSON.parse(bytes.toString()) as Manifest)
    .find((m) => m.requestId === requestId);
  if (!manifest) throw new Error('no manifest');
  return { objects, manifest };
}

const fileOnDisk = (h: Harness, name: string) =>
  path.join(h.runtime.buckets.root, DESTINATION_BUCKET, ...name.split('/'));

/** Records by their time: each source record has its own. */
const byTime = <R extends Record<string, unknown>>(rows: R[], timeOf: (row: R) => number) =>
  new Map(rows.map((row) => [timeOf(row), row]));

describe('CSV and Parquet exports, read back with csv-parse and DuckDB', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ label: 'columnar' });
    await h.writeSource('events/a.ndjson', `${SOURCE.slice(0, 3).join('\n')}\n`);
    await h.writeSource('events/b.ndjson', `${SOURCE.slice(3).join('\n')}\n`);
  });
  afterEach(() => h.dispose());

  test('CSV: one header for every file of the run, and every field of every record', async () => {
    const { objects, manifest } = await exportAs(h, 'csv');
    const columns = manifest.schema.columns ?? [];
    expect(columns.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'name',
        'time',
        'profile.identity',
        'props.Big',
        'props.Cart',
        'tags',
        'props.Tab-Key-?',
      ]),
    );
    const parts = [...objects.keys()].filter((n) => n.endsWith('.csv.gz'));
    expect(parts.length).toBe(manifest.files.length);
    expect(parts.length).toBeGreaterThan(2);
    const rows: Record<string, string>[] = [];
    for (const name of parts) {
      const text = gunzipSync(objects.get(name) ?? Buffer.alloc(0)).toString('utf8');
      const [header, ...records] = parseCsv(text);
      expect(header).toEqual(columns.map((c) => c.name));
      for (const record of records)
        rows.push(Object.fromEntries(columns.map((c, i) => [c.name, record[i] ?? ''])));
    }
    expect(rows).toHaveLength(SOURCE.length);
    const found = byTime(rows, (row) => Date.parse(String(row.time)));
    SOURCE.forEach((line, r) => {
      const row: Record<string, string> = found.get(EXPECTED_TIMES[r] ?? 0) ?? {};
      for (const column of columns) {
        if (column.name === 'time' || column.name === 'name') continue;
        const expected = sourceField(line, column.path, true);
        const cell = row[column.name];
        if (expected === undefined || expected === null)
          expect({ r, column: column.name, cell }).toEqual({ r, column: column.name, cell: '' });
        else expectCell(cell ?? '', expected, { r, column: column.name });
      }
    });
    // Names are values: control characters become "?", everything else arrives as sent.
    expect([...found.values()].map((row) => row.name).sort()).toEqual(
      [
        'Charged',
        'Bell?"Rung", with, commas',
        '=HYPERLINK("http://evil")',
        '🎉 Promo/../..',
        'Charged',
      ].sort(),
    );
  });

  test('CSV: DuckDB reads the gzipped parts with their header', async () => {
    const { objects } = await exportAs(h, 'csv');
    const files = [...objects.keys()]
      .filter((n) => n.endsWith('.csv.gz'))
      .map((n) => sqlString(fileOnDisk(h, n)));
    const rows = await duckdbRows(
      `SELECT "props.Big" AS big, "props.Note" AS note FROM read_csv([${files.join(', ')}], header = true, all_varchar = true, compression = 'gzip') ORDER BY big`,
    );
    expect(
      rows
        .map((row) => row.big)
        .filter((big) => big !== null)
        .sort(),
    ).toEqual(['-12', '12', '900719925474099', '9007199254740991'].sort());
    expect(rows.map((row) => row.note)).toEqual(
      expect.arrayContaining(['naïve café 😀👍🏽', 'line?break, "quoted"', 'تم الشراء']),
    );
  });

  test('Parquet: typed columns, UTC millisecond timestamps, every field', async () => {
    const { objects, manifest } = await exportAs(h, 'parquet');
    const columns = manifest.schema.columns ?? [];
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      name: 'string',
      time: 'timestamp',
      'props.Amount': 'double',
      'props.Big': 'int64',
      'props.Mixed': 'string',
      'props.Cart': 'json',
      'props.ok': 'boolean',
      tags: 'json',
    });
    const parts = [...objects.keys()].filter((n) => n.endsWith('.parquet'));
    expect(parts.length).toBe(manifest.files.length);
    const list = parts.map((n) => sqlString(fileOnDisk(h, n))).join(', ');
    const select = columns
      .map((c) =>
        c.type === 'timestamp'
          ? `epoch_ms("${c.name}") AS "${c.name}"`
          : `"${c.name}"::VARCHAR AS "${c.name}"`,
      )
      .join(', ');
    const rows = await duckdbRows(`SELECT ${select} FROM read_parquet([${list}])`);
    expect(rows).toHaveLength(SOURCE.length);
    const found = byTime(rows, (row) => Number(row.time));
    SOURCE.forEach((line, r) => {
      const row = found.get(EXPECTED_TIMES[r] ?? 0) ?? {};
      for (const column of columns) {
        if (column.name === 'time' || column.name === 'name') continue;
        const expected = sourceField(line, column.path, true);
        const cell = row[column.name] as string | null;
        const where = { r, column: column.name };
        if (expected === undefined || expected === null)
          expect({ ...where, cell }).toEqual({ ...where, cell: null });
        else if (column.type === 'double')
          expect({ ...where, value: Number(cell) }).toEqual({ ...where, value: Number(asText(expected)) });
        else expectCell(cell ?? '', expected, where);
      }
    });
    const described = await duckdbRows(`DESCRIBE SELECT "props.Big", time FROM read_parquet([${list}])`);
    expect(described.map((d) => d.column_type)).toEqual(['BIGINT', 'TIMESTAMP WITH TIME ZONE']);
  });

  test('the manifest lists the schema: field, type, nullability', async () => {
    const { manifest } = await exportAs(h, 'parquet');
    expect(manifest.schema.columns?.slice(0, 2)).toEqual([
      { name: 'name', path: ['name'], type: 'string', nullable: false },
      { name: 'time', path: ['time'], type: 'timestamp', nullable: false },
    ]);
    expect(manifest.schema.columns?.find((c) => c.name === 'props.ok')).toEqual({
      name: 'props.ok',
      path: ['props', 'ok'],
      type: 'boolean',
      nullable: true,
    });
    expect(manifest.schemaChanges).toEqual(
      expect.arrayContaining([
        { column: 'props.Big', change: 'added', type: 'int64' },
        { column: 'props.Mixed', change: 'widened', type: 'string', seen: ['safeInteger', 'string'] },
      ]),
    );
  });
});

describe('schema drift across the runs of one export', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ label: 'drift' });
  });
  afterEach(() => h.dispose());

  const line = (i: number, extra: string) =>
    `{"name":"Viewed","time":"${DAY}T0${i}:00:00Z","props":{"page":"home"${extra}}}`;

  async function run(n: number, lines: string[], format: 'csv' | 'parquet') {
    await h.writeSource(`drift-${n}/part.ndjson`, `${lines.join('\n')}\n`);
    await h.publishAndDrain(
      h.request({
        requestId: `run-${n}`,
        format,
        source: { prefixes: [`gs://${SOURCE_BUCKET}/drift-${n}/`] },
      }),
    );
    const objects = await h.destinationObjects();
    const manifest = [...objects.entries()]
      .filter(([name]) => name.endsWith('/manifest.json'))
      .map(([, bytes]) => JSON.parse(bytes.toString()) as Manifest)
      .find((m) => m.requestId === `run-${n}`);
    if (!manifest) throw new Error(`run ${n} has no manifest`);
    return manifest;
  }

  test.each(['parquet', 'csv'] as const)(
    '%s: a new property adds a column; a changed type is reported and written as text, nothing lost',
    async (format) => {
      const first = await run(1, [line(1, ''), line(2, '')], format);
      expect(first.schema.columns?.map((c) => c.name)).toEqual(['name', 'time', 'props.page']);

      const second = await run(2, [line(3, ',"x":5'), line(4, ',"x":9007199254740993')], format);
      expect(second.schema.columns?.map((c) => `${c.name}:${c.type}`)).toEqual([
        'name:string',
        'time:timestamp',
        'props.page:string',
        'props.x:int64',
      ]);
      expect(second.schemaChanges).toEqual([{ column: 'props.x', change: 'added', type: 'int64' }]);

      const third = await run(3, [line(5, ',"x":"five"'), line(6, ',"x":6')], format);
      expect(third.schema.columns?.map((c) => `${c.name}:${c.type}`)).toEqual([
        'name:string',
        'time:timestamp',
        'props.page:string',
        'props.x:string',
      ]);
      expect(third.schemaChanges).toEqual([
        {
          column: 'props.x',
          change: 'typeChanged',
          from: 'int64',
          to: 'string',
          seen: ['safeInteger', 'string'],
        },
      ]);

      const exportDoc = exportDocSchema.parse(
        await h.runtime.state.get(paths.export(exportDocId(ACCOUNT, 'daily-events'))),
      );
      expect(exportDoc.columns?.map((c) => `${c.name}:${c.type}`)).toEqual([
        'props.page:string',
        'props.x:string',
      ]);

      // Every value of x, as each run's files hold it, read by DuckDB.
      const values: Record<string, string | null> = {};
      for (const manifest of [first, second, third]) {
        const files = manifest.files.map((f) => sqlString(fileOnDisk(h, f.name))).join(', ');
        const reader =
          format === 'parquet'
            ? `read_parquet([${files}], union_by_name = true)`
            : `read_csv([${files}], header = true, all_varchar = true, union_by_name = true, compression = 'gzip')`;
        const hasX = manifest.schema.columns?.some((c) => c.name === 'props.x');
        const rows = await duckdbRows(
          `SELECT strftime(time::TIMESTAMPTZ AT TIME ZONE 'UTC', '%H') AS hour, ${hasX ? '"props.x"::VARCHAR' : 'NULL'} AS x FROM ${reader}`,
        );
        for (const row of rows) values[String(row.hour)] = row.x as string | null;
      }
      expect(values).toEqual({
        '01': null,
        '02': null,
        '03': '5',
        '04': '9007199254740993',
        '05': 'five',
        '06': '6',
      });
    },
  );
});

describe('CSV and Parquet parts: filter, window, size', () => {
  let h: Harness;
  const MAX_PART = 4 * 1024;
  beforeEach(async () => {
    h = await createHarness({ label: 'columnar-sizes', settings: { maxPartBytes: MAX_PART } });
    await h.writeSource('events/many.ndjson', eventLines(600, ['Kept', 'Dropped', 'Also Kept']));
  });
  afterEach(() => h.dispose());

  test.each(['csv', 'parquet'] as const)(
    '%s: only selected records in the window are written, and no part exceeds MAX_PART_BYTES',
    async (format) => {
      await h.publishAndDrain(
        h.request({
          format,
          compression: 'none',
          events: ['Kept', 'Also Kept'],
          window: { from: '2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z' },
        }),
      );
      const objects = await h.destinationObjects();
      const parts = [...objects.entries()].filter(([name]) => name.includes('/part-'));
      expect(parts.length).toBeGreaterThan(2);
      for (const [name, bytes] of parts) {
        expect({ name, size: bytes.length <= MAX_PART }).toEqual({ name, size: true });
        expect(name).toMatch(/\/event=(Kept|Also-Kept)\/dt=2026-02-01\//);
      }
      const list = parts.map(([name]) => sqlString(fileOnDisk(h, name))).join(', ');
      const reader =
        format === 'parquet'
          ? `read_parquet([${list}])`
          : `read_csv([${list}], header = true, all_varchar = true)`;
      const [summary] = await duckdbRows(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT "props.index")::INTEGER AS distinct_index, min(time::TIMESTAMPTZ)::VARCHAR AS first, max(time::TIMESTAMPTZ)::VARCHAR AS last FROM ${reader}`,
      );
      const expected = eventLines(600, ['Kept', 'Dropped', 'Also Kept'])
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { name: string; time: number })
        .filter((r) => r.name !== 'Dropped' && r.time * 1000 < Date.parse('2026-02-02T00:00:00Z'));
      expect(summary).toMatchObject({ n: expected.length, distinct_index: expected.length });
      expect(String(summary?.last) < '2026-02-02').toBe(true);
    },
  );
});

/** Integers beyond 2^53 through the whole pipeline: the record path keeps the source's digits (issue 11). */
describe('integers beyond 2^53 and literals a double would round', () => {
  let h: Harness;
  const BIG = [
    `{"name":"Big","time":"${DAY}T01:00:00Z","props":{"Big":9007199254740993,"Huge":123456789012345678901234567890,"Pi":3.14159265358979323846}}`,
    `{"name":"Big","time":"${DAY}T02:00:00Z","props":{"Big":-9223372036854775808,"Huge":1,"Pi":0.5}}`,
    `{"name":"Big","time":"${DAY}T03:00:00Z","props":{"Big":9223372036854775807,"Nested":{"n":18446744073709551617}}}`,
  ];
  beforeEach(async () => {
    h = await createHarness({ label: 'columnar-digits' });
    await h.writeSource('events/big.ndjson', `${BIG.join('\n')}\n`);
  });
  afterEach(() => h.dispose());

  test.each(['csv', 'parquet'] as const)(
    '%s: every digit arrives; INT64 where it fits, text where not',
    async (format) => {
      const { objects, manifest } = await exportAs(h, format);
      const types = Object.fromEntries((manifest.schema.columns ?? []).map((c) => [c.name, c.type]));
      expect(types).toMatchObject({
        'props.Big': 'int64',
        'props.Huge': 'string',
        'props.Pi': 'string',
        'props.Nested': 'json',
      });
      const list = [...objects.keys()]
        .filter((n) => n.includes('/part-'))
        .map((n) => sqlString(fileOnDisk(h, n)))
        .join(', ');
      const reader =
        format === 'parquet'
          ? `read_parquet([${list}])`
          : `read_csv([${list}], header = true, compression = 'gzip', types = {'props.Big': 'BIGINT', 'props.Huge': 'VARCHAR', 'props.Pi': 'VARCHAR'})`;
      const rows = await duckdbRows(
        `SELECT typeof("props.Big") AS type, "props.Big"::VARCHAR AS big, "props.Huge"::VARCHAR AS huge, "props.Pi"::VARCHAR AS pi, "props.Nested"::VARCHAR AS nested FROM ${reader} ORDER BY time`,
      );
      expect(rows).toEqual([
        {
          type: 'BIGINT',
          big: '9007199254740993',
          huge: '123456789012345678901234567890',
          pi: '3.14159265358979323846',
          nested: null,
        },
        { type: 'BIGINT', big: '-9223372036854775808', huge: '1', pi: '0.5', nested: null },
        {
          type: 'BIGINT',
          big: '9223372036854775807',
          huge: null,
          pi: null,
          nested: '{"n":18446744073709551617}',
        },
      ]);
    },
  );
});

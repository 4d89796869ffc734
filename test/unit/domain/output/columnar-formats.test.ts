import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { csvEncoder } from '../../../../shared/domain/output/csv-format';
import { ParquetPartEncoder, RowGroupBudget } from '../../../../shared/domain/output/parquet-format';
import { SchemaObserver } from '../../../../shared/domain/output/record-fields';
import type { Column } from '../../../../shared/domain/output/column-types';
import type { RunSchema } from '../../../../shared/domain/output/run-schema';
import { resolveRunSchema } from '../../../../shared/domain/output/run-schema';
import { duckdbRows, sqlString } from '../../../support/duckdb';
import { useTempDirs } from '../../../support/temp-dir';
import { asText, expectCell, sourceField } from '../../../support/source-oracle';

/** Records as the record path writes them: sanitised JSON, `time` normalised, numbers with the source's digits. */
const RECORDS = [
  '{"name":"Charged","time":"2026-01-05T10:00:00.000Z","profile":{"identity":"u1","email":"a@example.com"},"props":{"Amount":12.5,"Big":9007199254740993,"Note":"naïve café 😀👍🏽","Cart":{"items":[{"sku":"a","qty":2}],"total":18446744073709551617},"ok":true,"empty":"","Neg":-9223372036854775808}}',
  '{"name":"\\"quoted\\", with comma\\r\\nand CRLF","time":"2026-01-05T10:00:01.123Z","props":{"Amount":null,"Big":12,"Note":null,"Huge":123456789012345678901234567890,"Pi":3.14159265358979323846,"a.b":1,"ok":false}}',
  '{"name":"=HYPERLINK(\\"http://x\\",\\"y\\")","time":"2026-01-05T10:00:02.000Z","profile":{"identity":"ユーザー"},"props":{"Mixed":"text","Arr":[1,"two",{"3":null}],"Zero":-0}}',
  '{"name":"🎉 Promo; DROP TABLE x;--","time":"1999-12-31T23:59:59.999Z","props":{"Mixed":42,"Arr":[],"Cart":{},"Note":"日本語\\ttab"},"extra":[1,2]}',
];

function runSchemaOf(records: readonly string[]): RunSchema {
  const observer = new SchemaObserver(1000);
  records.forEach((record) => observer.observe(record));
  return resolveRunSchema('events', undefined, [
    { records: observer.records, columns: observer.columns(), overflow: observer.overflow },
  ]);
}

async function writeParquet(file: string, columns: readonly Column[], records: readonly string[]) {
  const chunks: Buffer[] = [];
  const part = new ParquetPartEncoder(
    columns,
    (bytes) => {
      chunks.push(bytes);
      return Promise.resolve();
    },
    new RowGroupBudget(64 * 1024 * 1024),
    { rowGroupBytes: 64 * 1024 * 1024, rowGroupRows: 3, codec: 'SNAPPY' },
  );
  for (const record of records) await part.add(Buffer.from(`${record}\n`), 1);
  await part.finish();
  await writeFile(file, Buffer.concat(chunks));
}

describe('the run schema of hostile records', () => {
  const schema = runSchemaOf(RECORDS);
  const byName = new Map(schema.columns.map((c) => [c.name, c]));

  test('types keep every digit: int64 within its range, text beyond it or where a double would round', () => {
    const types = Object.fromEntries(
      schema.columns.map((c) => [c.name, `${c.type}${c.nullable ? '?' : ''}`]),
    );
    expect(types).toEqual({
      name: 'string',
      time: 'timestamp',
      'profile.identity': 'string?',
      'profile.email': 'string?',
      'props.Amount': 'double?',
      'props.Big': 'int64?',
      'props.Note': 'string?',
      'props.Cart': 'json?',
      'props.ok': 'boolean?',
      'props.empty': 'string?',
      'props.Neg': 'int64?',
      'props.Huge': 'string?',
      'props.Pi': 'string?',
      'props.a.b': 'int64?',
      'props.Mixed': 'string?',
      'props.Arr': 'json?',
      'props.Zero': 'double?',
      extra: 'json?',
    });
    expect(byName.get('name')?.nullable).toBe(false);
  });

  test('values that could not keep a narrower type are reported, with what was seen', () => {
    const widened = schema.changes.filter((c) => c.change === 'widened');
    expect(widened).toEqual([
      { column: 'props.Huge', change: 'widened', type: 'string', seen: ['hugeInteger'] },
      { column: 'props.Pi', change: 'widened', type: 'string', seen: ['inexact'] },
      { column: 'props.Mixed', change: 'widened', type: 'string', seen: ['safeInteger', 'string'] },
    ]);
  });
});

describe('CSV and Parquet read back by readers nobody here wrote', () => {
  const dir = useTempDirs();
  const schema = runSchemaOf(RECORDS);
  const { columns } = schema;

  test('csv-parse gets the header and every field of every record, digits and emoji intact', () => {
    const encoder = csvEncoder(columns);
    const text = encoder.header + RECORDS.map((r) => encoder.row(r)).join('');
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(columns.map((c) => c.name));
    expect(rows).toHaveLength(RECORDS.length);
    RECORDS.forEach((record, r) => {
      columns.forEach((column, c) => {
        const expected = sourceField(record, column.path);
        const cell = rows[r]?.[c] ?? '';
        if (expected === undefined || expected === null) expect({ r, c, cell }).toEqual({ r, c, cell: '' });
        else expectCell(cell, expected, { r, column: column.name });
      });
    });
  });

  test('DuckDB tells null from the empty string in the CSV', async () => {
    const file = path.join(dir('csv'), 'part.csv');
    const encoder = csvEncoder(columns);
    await writeFile(file, encoder.header + RECORDS.map((r) => encoder.row(r)).join(''));
    const rows = await duckdbRows(
      `SELECT "props.empty" AS empty, "props.Note" AS note, "props.Big" AS big FROM read_csv(${sqlString(file)}, header = true, all_varchar = true, allow_quoted_nulls = false)`,
    );
    expect(rows.map((row) => row.empty)).toEqual(['', null, null, null]);
    expect(rows.map((row) => row.note)).toEqual(['naïve café 😀👍🏽', null, null, '日本語\ttab']);
    expect(rows.map((row) => row.big)).toEqual(['9007199254740993', '12', null, null]);
  });

  test('DuckDB reads the Parquet types and every field, int64 exact, time as a UTC instant', async () => {
    const file = path.join(dir('parquet'), 'part.parquet');
    await writeParquet(file, columns, RECORDS);
    const described = await duckdbRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
    const duckTypes = Object.fromEntries(
      described.map((d) => [String(d.column_name), String(d.column_type)]),
    );
    const expectedDuckType = {
      string: 'VARCHAR',
      int64: 'BIGINT',
      double: 'DOUBLE',
      boolean: 'BOOLEAN',
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      json: 'VARCHAR',
    };
    expect(duckTypes).toEqual(Object.fromEntries(columns.map((c) => [c.name, expectedDuckType[c.type]])));

    const select = columns
      .map((c) =>
        c.type === 'timestamp'
          ? `epoch_ms("${c.name}")::VARCHAR AS "${c.name}"`
          : `"${c.name}"::VARCHAR AS "${c.name}"`,
      )
      .join(', ');
    const rows = await duckdbRows(`SELECT ${select} FROM read_parquet(${sqlString(file)})`);
    expect(rows).toHaveLength(RECORDS.length);
    RECORDS.forEach((record, r) => {
      for (const column of columns) {
        const expected = sourceField(record, column.path);
        const cell = rows[r]?.[column.name];
        const where = `${r}:${column.name}`;
        if (expected === undefined || expected === null)
          expect({ where, cell }).toEqual({ where, cell: null });
        else if (column.type === 'timestamp')
          expect({ where, cell }).toEqual({ where, cell: String(Date.parse(expected as string)) });
        else if (column.type === 'double')
          expect({ where, value: Number(cell) }).toEqual({
            where,
            value: Number(asText(expected)),
          });
        else expectCell(String(cell), expected, { where });
      }
    });
  });

  test('an integer beyond 2^53 is stored as INT64 with its digits, one beyond int64 as its digits in text', async () => {
    const file = path.join(dir('digits'), 'part.parquet');
    await writeParquet(file, columns, RECORDS);
    const rows = await duckdbRows(
      `SELECT "props.Big" + 1 AS next, typeof("props.Big") AS big, "props.Huge" AS huge, "props.Neg"::VARCHAR AS neg FROM read_parquet(${sqlString(file)}) WHERE "props.Big" > 100`,
    );
    expect(rows).toEqual([
      { next: '9007199254740994', big: 'BIGINT', huge: null, neg: '-9223372036854775808' },
    ]);
  });
});

describe('Parquet row groups', () => {
  const dir = useTempDirs();
  const records = Array.from(
    { length: 10 },
    (_, i) =>
      `{"name":"E","time":"2026-01-05T10:00:0${i}.000Z","props":{"i":${i},"text":"${'x'.repeat(100)}"}}`,
  );
  const { columns } = runSchemaOf(records);

  async function rowGroups(file: string): Promise<number[]> {
    const rows = await duckdbRows(
      `SELECT row_group_num_rows::INTEGER AS n FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema = 'name' ORDER BY row_group_id`,
    );
    return rows.map((row) => Number(row.n));
  }

  test('close at their row limit, and every record is read back in order', async () => {
    const file = path.join(dir('groups'), 'part.parquet');
    await writeParquet(file, columns, records);
    expect(await rowGroups(file)).toEqual([3, 3, 3, 1]);
    const rows = await duckdbRows(`SELECT "props.i"::INTEGER AS i FROM read_parquet(${sqlString(file)})`);
    expect(rows.map((row) => row.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('parts sharing a budget write early row groups, the largest first, so buffered JSON stays bounded', async () => {
    const budget = new RowGroupBudget(700);
    const outputs = [[], []] as Buffer[][];
    const options = { rowGroupBytes: 1 << 20, rowGroupRows: 1000, codec: 'SNAPPY' } as const;
    const parts = outputs.map(
      (chunks) =>
        new ParquetPartEncoder(columns, (bytes) => Promise.resolve(void chunks.push(bytes)), budget, options),
    );
    let peak = 0;
    for (const [i, record] of records.entries()) {
      await parts[i % 2]?.add(Buffer.from(`${record}\n`), 1);
      peak = Math.max(peak, budget.total);
    }
    expect(peak).toBeLessThanOrEqual(700);
    for (const part of parts) await part.finish();
    const files = await Promise.all(
      outputs.map(async (chunks, i) => {
        const file = path.join(dir('budget'), `part-${i}.parquet`);
        await writeFile(file, Buffer.concat(chunks));
        return file;
      }),
    );
    const groups = await Promise.all(files.map(rowGroups));
    expect(groups.flat().reduce((a, b) => a + b, 0)).toBe(10);
    expect(groups.every((g) => g.length > 1)).toBe(true);
  });
});

describe('the overflow column', () => {
  test('holds, as one JSON object, the fields beyond the column cap: nothing is dropped', () => {
    const records = [
      '{"name":"E","time":"2026-01-05T10:00:00.000Z","props":{"a":1,"b":"two","c":[3],"d":9007199254740993}}',
    ];
    const observer = new SchemaObserver(1000);
    records.forEach((record) => observer.observe(record));
    const { columns } = resolveRunSchema(
      'events',
      undefined,
      [{ records: 1, columns: observer.columns(), overflow: false }],
      4,
    );
    expect(columns.map((c) => c.name)).toEqual(['name', 'time', 'props.a', 'props.b', '_overflow']);
    const encoder = csvEncoder(columns);
    const [, row] = parseCsv(encoder.header + encoder.row(records[0] ?? ''));
    expect(row?.slice(2)).toEqual(['1', 'two', '{"props.c":[3],"props.d":9007199254740993}']);
  });
});

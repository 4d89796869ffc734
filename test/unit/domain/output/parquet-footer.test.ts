import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Column } from '../../../../shared/domain/output/column-types';
import { ParquetFooter } from '../../../../shared/domain/output/parquet-footer';
import { parquetSchema } from '../../../../shared/domain/output/parquet-format';
import { duckdbRows, sqlString } from '../../../support/duckdb';
import { useTempDirs } from '../../../support/temp-dir';

const columns: Column[] = [
  { name: 'name', path: ['name'], type: 'string', nullable: false },
  { name: 'n', path: ['n'], type: 'int64', nullable: true },
  { name: 'text', path: ['text'], type: 'string', nullable: true },
  { name: 'flag', path: ['flag'], type: 'boolean', nullable: true },
];

/** A row group's cells: low-cardinality names, integers with nulls, text that does not compress, booleans. */
function group(start: number, rows: number) {
  const at = (i: number) => start + i;
  return [
    { name: 'name', data: Array.from({ length: rows }, (_, i) => `event-${at(i) % 3}`) },
    { name: 'n', data: Array.from({ length: rows }, (_, i) => (at(i) % 7 === 0 ? null : BigInt(at(i)))) },
    {
      name: 'text',
      data: Array.from(
        { length: rows },
        (_, i) => `${at(i).toString(36)}-${(at(i) * 2654435761).toString(36)}`,
      ),
    },
    {
      name: 'flag',
      data: Array.from({ length: rows }, (_, i) => (at(i) % 5 === 0 ? null : at(i) % 2 === 0)),
    },
  ];
}

/** One row group per entry: its rows, and the page size it is written with (small sizes make several pages). */
type Plan = { rows: number; pageSize?: number }[];

/** The same writes, finished by hyparquet-writer itself (the reference) or through ParquetFooter. */
function written(plan: Plan, through: 'writer' | 'footer'): { bytes: Buffer; kept: number } {
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: parquetSchema(columns),
    codec: 'SNAPPY',
    createdBy: 'test',
  });
  const footer = new ParquetFooter(parquet);
  let start = 0;
  let kept = 0;
  for (const { rows, pageSize } of plan) {
    void parquet.write({
      columnData: group(start, rows),
      rowGroupSize: rows,
      ...(pageSize ? { pageSize } : {}),
    });
    start += rows;
    if (through === 'footer') {
      footer.seal();
      kept = Math.max(kept, footer.kept + parquet.row_groups.length);
    }
  }
  if (through === 'footer') footer.finish();
  else void parquet.finish();
  return { bytes: Buffer.from(writer.getBytes()), kept };
}

describe('ParquetFooter', () => {
  const dir = useTempDirs();

  it.each<[string, Plan]>([
    ['one row group', [{ rows: 1000 }]],
    ['three row groups', [{ rows: 500 }, { rows: 1 }, { rows: 700 }]],
    // 15 and more row groups: the list's size no longer fits its header byte.
    ['fourteen row groups', Array.from({ length: 14 }, () => ({ rows: 30 }))],
    ['fifteen row groups', Array.from({ length: 15 }, () => ({ rows: 30 }))],
    ['two hundred row groups', Array.from({ length: 200 }, (_, i) => ({ rows: 1 + (i % 13) }))],
    // Several pages per column chunk: offset indexes come after the last row group and set offsets inside it.
    [
      'a row group of several pages between others',
      [{ rows: 300 }, { rows: 3000, pageSize: 4096 }, { rows: 300 }],
    ],
    [
      'only row groups of several pages',
      [
        { rows: 2000, pageSize: 2048 },
        { rows: 2000, pageSize: 1024 },
      ],
    ],
  ])('writes the file hyparquet-writer writes, byte for byte: %s', (_name, plan) => {
    const reference = written(plan, 'writer').bytes;
    expect(written(plan, 'footer').bytes.equals(reference)).toBe(true);
  });

  it('writes the footer of a file without row groups as the writer does', () => {
    expect(written([], 'footer').bytes.equals(written([], 'writer').bytes)).toBe(true);
  });

  it('keeps no row group as objects once sealed, unless page indexes are still to come', () => {
    expect(
      written(
        Array.from({ length: 50 }, () => ({ rows: 40 })),
        'footer',
      ).kept,
    ).toBe(0);
    // The row group of several pages stays until the end, as its page indexes will set offsets inside it.
    expect(written([{ rows: 300 }, { rows: 3000, pageSize: 4096 }, { rows: 300 }], 'footer').kept).toBe(1);
  });

  it('writes files DuckDB reads back, page indexes and all', async () => {
    const plan: Plan = [
      { rows: 300 },
      { rows: 3000, pageSize: 4096 },
      ...Array.from({ length: 20 }, () => ({ rows: 35 })),
    ];
    const file = path.join(dir('footer'), 'file.parquet');
    await writeFile(file, written(plan, 'footer').bytes);
    const rows = await duckdbRows(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT name)::INTEGER AS names, sum(n)::BIGINT::VARCHAR AS total,
              count(flag)::INTEGER AS flags FROM read_parquet(${sqlString(file)})`,
    );
    const all = 300 + 3000 + 20 * 35;
    const total = Array.from({ length: all }, (_, i) => i)
      .filter((i) => i % 7 !== 0)
      .reduce((a, b) => a + b, 0);
    const flags = Array.from({ length: all }, (_, i) => i).filter((i) => i % 5 !== 0).length;
    expect(rows).toEqual([{ n: all, names: 3, total: String(total), flags }]);
    const groups = await duckdbRows(
      `SELECT count(DISTINCT row_group_id)::INTEGER AS groups FROM parquet_metadata(${sqlString(file)})`,
    );
    expect(groups).toEqual([{ groups: 22 }]);
  });
});

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ParquetPartEncoder, RowGroupBudget } from '../../../../shared/domain/output/parquet-format';
import { groupsOf, hyparquetFile } from '../../../support/row-cells';
import { schemaOf } from '../../../support/event-lines';
import { duckdbRows, sqlString } from '../../../support/duckdb';
import { useTempDirs } from '../../../support/temp-dir';

const KiB = 1024;

/** Records as the record path writes them, with text that does not compress: row groups of some size. */
function records(count: number, seed = 1): string[] {
  let state = seed;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  return Array.from({ length: count }, (_, i) => {
    const text = Array.from({ length: 12 }, () => random().toString(36)).join('');
    return `{"name":"E${i % 3}","time":"2026-01-05T10:00:00.${String(i % 1000).padStart(3, '0')}Z","props":{"i":${i},"a":"${text}","b":"${text.slice(7)}","c":${random() % 1000}}}`;
  });
}

describe('ParquetPartEncoder', () => {
  const dir = useTempDirs();
  const lines = records(4000);
  const columns = schemaOf(lines, 1000);

  /** The file as hyparquet-writer writes it into one ByteWriter, from the same cells: the reference. */
  const reference = (rowGroups: string[][]): Buffer => hyparquetFile(columns, rowGroups, 'SNAPPY');

  it('sends each row group in pieces of at most 64 KiB (or one page), byte for byte the file one growing buffer holds', async () => {
    const pieces: Buffer[] = [];
    const part = new ParquetPartEncoder(
      columns,
      (bytes) => Promise.resolve(void pieces.push(bytes)),
      new RowGroupBudget(64 * 1024 * KiB),
      { rowGroupBytes: 64 * 1024 * KiB, rowGroupRows: 500, codec: 'SNAPPY' },
    );
    for (const line of lines) await part.add(Buffer.from(`${line}\n`), 1);
    await part.finish();
    const file = Buffer.concat(pieces);
    const groups = groupsOf(lines, 500);
    expect(file.equals(reference(groups))).toBe(true);
    // Each row group is ~80 KiB, its largest page under 64 KiB: the old writer sent a row group as one buffer grown
    // to its size.
    expect(file.length).toBeGreaterThan(8 * 64 * KiB);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(64 * KiB);

    const written = path.join(dir('pieces'), 'part.parquet');
    await writeFile(written, file);
    const rows = await duckdbRows(
      `SELECT count(*)::INTEGER AS n, sum("props.i")::INTEGER AS s FROM read_parquet(${sqlString(written)})`,
    );
    expect(rows).toEqual([{ n: 4000, s: (3999 * 4000) / 2 }]);
  });

  it("reuses the chunk's line blocks: parts writing many row groups allocate about one budget of them", async () => {
    const budget = new RowGroupBudget(256 * KiB);
    const options = { rowGroupBytes: 128 * KiB, rowGroupRows: 1_000_000, codec: 'UNCOMPRESSED' } as const;
    let sent = 0;
    const parts = [0, 1, 2].map(
      () =>
        new ParquetPartEncoder(
          columns,
          (bytes) => Promise.resolve(void (sent += bytes.length)),
          budget,
          options,
        ),
    );
    // ~880 KiB of JSON per pass, four passes: about 14 row groups' worth of blocks went through the pool.
    for (let pass = 0; pass < 4; pass += 1)
      for (const [i, line] of lines.entries()) await parts[i % 3]?.add(Buffer.from(`${line}\n`), 1);
    for (const part of parts) await part.finish();
    expect(sent).toBeGreaterThan(1024 * KiB);
    // The budget (4 blocks) plus one block each part may be filling, plus the row group a part is encoding.
    expect(budget.blocks.made).toBeLessThanOrEqual(256 / 64 + 3 + 128 / 64 + 1);
  });

  it('gives its blocks back when aborted', async () => {
    const budget = new RowGroupBudget(1024 * KiB);
    const options = { rowGroupBytes: 1024 * KiB, rowGroupRows: 1_000_000, codec: 'SNAPPY' } as const;
    const first = new ParquetPartEncoder(columns, () => Promise.resolve(), budget, options);
    for (const line of lines.slice(0, 1000)) await first.add(Buffer.from(`${line}\n`), 1);
    first.abort();
    const made = budget.blocks.made;
    expect(budget.total).toBe(0);
    const second = new ParquetPartEncoder(columns, () => Promise.resolve(), budget, options);
    for (const line of lines.slice(0, 1000)) await second.add(Buffer.from(`${line}\n`), 1);
    expect(budget.blocks.made).toBe(made);
    second.abort();
  });

  it('closes row groups by cells on a wide run: every column keeps a level per row, even where rows have no value', async () => {
    // 600 columns seen across records that each hold one of them: sparse rows, where bytes and rows would allow
    // one row group of every record.
    const wide = Array.from(
      { length: 3000 },
      (_, i) => `{"name":"E","time":"2026-01-05T10:00:00.000Z","f${i % 600}":${i}}`,
    );
    const wideColumns = schemaOf(wide, 1000);
    expect(wideColumns.length).toBeGreaterThan(600);
    const pieces: Buffer[] = [];
    const part = new ParquetPartEncoder(
      wideColumns,
      (bytes) => Promise.resolve(void pieces.push(bytes)),
      new RowGroupBudget(64 * 1024 * KiB),
      { rowGroupBytes: 64 * 1024 * KiB, rowGroupRows: 1_000_000, rowGroupCells: 100_000, codec: 'SNAPPY' },
    );
    for (const line of wide) await part.add(Buffer.from(`${line}\n`), 1);
    await part.finish();
    const file = Buffer.concat(pieces);
    const { parquetMetadata } = await import('hyparquet');
    const groups = parquetMetadata(Uint8Array.prototype.slice.call(file).buffer).row_groups.map((g) =>
      Number(g.num_rows),
    );
    const perGroup = Math.floor(100_000 / wideColumns.length);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(Math.max(...groups)).toBe(perGroup);
    // The same file as the writer makes from the same groups.
    expect(file.equals(hyparquetFile(wideColumns, groupsOf(wide, perGroup), 'SNAPPY'))).toBe(true);
  });
});

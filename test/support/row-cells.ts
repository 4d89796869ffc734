import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Column, ColumnType } from '../../shared/domain/output/column-types';
import { parquetSchema } from '../../shared/domain/output/parquet-format';
import type { RecordBytes } from '../../shared/domain/output/record-bytes';
import { VALUE } from '../../shared/domain/output/record-bytes';
import { ColumnPlaces } from '../../shared/domain/output/row-shape';

/**
 * Records as rows of JavaScript cells, the way the columnar writers took them before CSV was written from the bytes
 * (csv-format.ts) and Parquet from typed columns (parquet-columns.ts): the cells the differential tests hold both to,
 * hyparquet-writer writing `parquetCell`'s cells being the reference file (parquet-pages.test.ts). The product never
 * uses it.
 */

/** Turns value `n` of the reader's record into a format's cell; called only for values that are not null. */
export type CellOf<T> = (reader: RecordBytes, n: number, type: ColumnType) => T;

/** A cell as text (CSV): numbers as their literals, nested values as JSON. */
export const textCell: CellOf<string> = (reader, n, type) => {
  if (type === 'json') return reader.text(n);
  switch (reader.tags[n]) {
    case VALUE.string:
      return reader.string(n);
    case VALUE.true:
      return 'true';
    case VALUE.false:
      return 'false';
    default:
      return reader.text(n);
  }
};

/** A cell as the Parquet writer takes it for the column's physical type. */
export const parquetCell: CellOf<string | bigint | number | boolean> = (reader, n, type) => {
  switch (type) {
    case 'int64':
      return BigInt(reader.text(n));
    case 'double':
      return Number(reader.text(n));
    case 'boolean':
      return reader.tags[n] === VALUE.true;
    case 'timestamp':
      return BigInt(Date.parse(reader.string(n)));
    case 'json':
      return reader.text(n);
    case 'string':
      return textCell(reader, n, type);
  }
};

/**
 * Lays records out on the run's columns, one cell per column (null where the record has none), each made by the
 * format's `cell`; the overflow column holds its JSON text.
 */
export class RowShaper<T> {
  private readonly places: ColumnPlaces;

  constructor(
    columns: readonly Column[],
    private readonly cell: CellOf<T>,
  ) {
    this.places = new ColumnPlaces(columns);
  }

  /** Puts the cells of the record src[start, end) in row `r` of `data` (one array per column). */
  fill(src: Buffer, start: number, end: number, data: (T | string | null)[][], r: number): void {
    const { places, cell } = this;
    places.place(src, start, end);
    const { reader, at, types, overflowAt } = places;
    for (let c = 0; c < data.length; c++) {
      const n = at[c] ?? -1;
      data[c][r] =
        c === overflowAt
          ? places.overflow
          : n < 0 || reader.tags[n] === VALUE.null
            ? null
            : cell(reader, n, types[c] ?? 'string');
    }
  }
}

/** One record (the record path's JSON text) as its row of cells. */
export function rowShaper<T>(
  columns: readonly Column[],
  cell: CellOf<T>,
): (json: string) => (T | string | null)[] {
  const shaper = new RowShaper(columns, cell);
  return (json) => {
    const bytes = Buffer.from(json);
    const data = columns.map(() => [] as (T | string | null)[]);
    shaper.fill(bytes, 0, bytes.length, data, 0);
    return data.map((column) => column[0] ?? null);
  };
}

/** The file hyparquet-writer writes from `parquetCell`'s cells, one row group per group of records: the reference. */
export function hyparquetFile(
  columns: readonly Column[],
  groups: readonly (readonly string[])[],
  codec: 'SNAPPY' | 'UNCOMPRESSED',
): Buffer {
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: parquetSchema(columns),
    codec,
    createdBy: 'gcs-export (hyparquet-writer)',
  });
  const shape = rowShaper(columns, parquetCell);
  for (const group of groups) {
    const rows = group.map(shape);
    const columnData = columns.map((column, c) => ({ name: column.name, data: rows.map((row) => row[c]) }));
    void parquet.write({ columnData, rowGroupSize: group.length });
  }
  void parquet.finish();
  return Buffer.from(writer.getBytes());
}

/** Records cut into groups of `size` (the last may be shorter): the row groups a part encoder makes of them. */
export const groupsOf = (records: readonly string[], size: number): string[][] =>
  Array.from({ length: Math.ceil(records.length / size) }, (_, i) => records.slice(i * size, (i + 1) * size));

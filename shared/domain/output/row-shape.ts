import { integrityError } from '../errors';
import type { Column, ColumnType } from './column-types';
import { KIND, kindsOfType, typeOfKinds } from './column-types';
import { RecordBytes } from './record-bytes';
import type { RawValue } from './record-cells';
import { RecordCells, VALUE } from './record-cells';
import { OVERFLOW_PATH } from './run-schema';

const accepts = (type: ColumnType, kind: number): boolean =>
  kind === 0 || typeOfKinds(kindsOfType(type) | kind) === type;

/** Turns one value into a format's cell; called only for values that are not null. */
export type CellOf<T> = (cells: RecordCells, value: RawValue, type: ColumnType) => T;

/**
 * Lays records out on the run's columns, one cell per column (null where the record has none), each made by the
 * format's `cell`. A value the schema has no room for (no column, or a kind its column's type cannot hold) means the
 * source changed between the first pass and this one: the run cannot keep one schema, so it fails instead of
 * writing a file that disagrees with its manifest. Values without a column go, as JSON text, into the overflow
 * column when the run has one.
 */
export function rowShaper<T>(
  columns: readonly Column[],
  cell: CellOf<T>,
): (json: string) => (T | string | null)[] {
  const tops = new Map<string, number>();
  const subs = new Map<string, Map<string, number>>();
  let overflowAt: number | undefined;
  columns.forEach((column, i) => {
    const [top = '', sub] = column.path;
    if (column.path.length === OVERFLOW_PATH.length && top === OVERFLOW_PATH[0]) overflowAt = i;
    else if (sub === undefined) tops.set(top, i);
    else {
      let bySub = subs.get(top);
      if (!bySub) subs.set(top, (bySub = new Map<string, number>()));
      bySub.set(sub, i);
    }
  });
  const cells = new RecordCells();
  return (json) => {
    const row = new Array<T | string | null>(columns.length).fill(null);
    let overflow: Record<string, string> | undefined;
    cells.read(json, (top, sub, value) => {
      const at = sub === undefined ? tops.get(top) : subs.get(top)?.get(sub);
      const column = at === undefined ? undefined : columns[at];
      if (at !== undefined && column) {
        if (!accepts(column.type, cells.kind(value, column.type === 'timestamp')))
          throw sourceChanged(`${column.name} holds a value its type (${column.type}) cannot`);
        row[at] = value.tag === VALUE.null ? null : cell(cells, value, column.type);
        return;
      }
      const name = sub === undefined ? top : `${top}.${sub}`;
      if (overflowAt === undefined) throw sourceChanged(`no column for ${name}`);
      (overflow ??= Object.create(null) as Record<string, string>)[name] = cells.json(value);
    });
    if (overflow && overflowAt !== undefined) row[overflowAt] = objectText(overflow);
    return row;
  };
}

/** An object of JSON texts as JSON text, keys in the order JavaScript enumerates them (as JSON.stringify would). */
const objectText = (fields: Record<string, string>): string =>
  `{${Object.keys(fields)
    .map((key) => `${JSON.stringify(key)}:${fields[key]}`)
    .join(',')}}`;

const sourceChanged = (detail: string) =>
  integrityError('sourceChanged', `the source changed after the run's schema was decided: ${detail}`);

/** A cell as text (CSV): numbers as their literals, nested values as JSON. */
export const textCell: CellOf<string> = (cells, value, type) => {
  if (type === 'json') return cells.json(value);
  switch (value.tag) {
    case VALUE.string:
      return cells.string(value);
    case VALUE.number:
      return cells.literal(value);
    case VALUE.true:
      return 'true';
    case VALUE.false:
      return 'false';
    case VALUE.null:
    case VALUE.nested:
      return cells.json(value);
  }
};

/** A cell as the Parquet writer takes it for the column's physical type. */
export const parquetCell: CellOf<string | bigint | number | boolean> = (cells, value, type) => {
  switch (type) {
    case 'int64':
      return BigInt(cells.literal(value));
    case 'double':
      return Number(cells.literal(value));
    case 'boolean':
      return value.tag === VALUE.true;
    case 'timestamp':
      return BigInt(Date.parse(cells.string(value)));
    case 'json':
      return cells.json(value);
    case 'string':
      return textCell(cells, value, type);
  }
};

const ALL_KINDS = Object.values(KIND);

/**
 * The run's columns for the bytes path (record-bytes.ts): `place` reads a record where the record path wrote it and
 * puts each of its values in its column (`at`), with rowShaper's rules. A record it does not take on its own (a
 * value with no column, which goes to the overflow column, or one its column's type cannot hold, which is refused)
 * is left to the string path, rowShaper, which writes or refuses it: the two paths never disagree on a row.
 */
export class ColumnPlaces {
  private readonly own = new RecordBytes();
  /** The table of the record last placed. */
  reader: RecordBytes = this.own;
  /** Per column: the placed record's value in it (an index into the reader's table), or -1. */
  readonly at: Int32Array;
  readonly types: readonly ColumnType[];
  private readonly tops = new Map<string, number>();
  private readonly subs = new Map<string, Map<string, number>>();
  /** Per column: the kind bits its type accepts (rowShaper's `accepts`, one bit at a time). */
  private readonly accepted: Int32Array;
  private readonly timestamp: Uint8Array;

  constructor(columns: readonly Column[]) {
    const width = columns.length;
    this.at = new Int32Array(width);
    this.types = columns.map((c) => c.type);
    this.accepted = new Int32Array(width);
    this.timestamp = new Uint8Array(width);
    columns.forEach((column, i) => {
      const [top = '', sub] = column.path;
      // The overflow column is only ever filled by the string path.
      const overflow = column.path.length === OVERFLOW_PATH.length && top === OVERFLOW_PATH[0];
      if (!overflow && sub === undefined) this.tops.set(top, i);
      else if (!overflow && sub !== undefined) {
        let bySub = this.subs.get(top);
        if (!bySub) this.subs.set(top, (bySub = new Map<string, number>()));
        bySub.set(sub, i);
      }
      const own = kindsOfType(column.type);
      let accepted = 0;
      for (const kind of ALL_KINDS) if (typeOfKinds(own | kind) === column.type) accepted |= kind;
      this.accepted[i] = accepted;
      this.timestamp[i] = column.type === 'timestamp' ? 1 : 0;
    });
  }

  /** Reads src[start, end) and places its values; false when the string path must take the record. */
  place(src: Buffer, start: number, end: number): boolean {
    this.own.read(src, start, end);
    return this.placeValues(this.own);
  }

  /** Places the values of a record's table (read, or reported by the record path as it wrote the record). */
  placeValues(reader: RecordBytes): boolean {
    this.reader = reader;
    const { at } = this;
    at.fill(-1);
    const { tops, subs } = reader;
    for (let n = 0; n < reader.count; n += 1) {
      const sub = subs[n];
      const column =
        sub === undefined ? this.tops.get(tops[n] ?? '') : this.subs.get(tops[n] ?? '')?.get(sub);
      if (column === undefined) return false;
      const kind = reader.kind(n, this.timestamp[column] === 1);
      if (kind !== 0 && ((this.accepted[column] ?? 0) & kind) === 0) return false;
      at[column] = n;
    }
    return true;
  }
}

/** Parquet's cells of a record on its bytes, with parquetCell's values; the string path takes what `place` leaves. */
export class ParquetCells {
  private readonly places: ColumnPlaces;
  private readonly slow: (json: string) => (string | bigint | number | boolean | null)[];

  constructor(columns: readonly Column[]) {
    this.places = new ColumnPlaces(columns);
    this.slow = rowShaper(columns, parquetCell);
  }

  /** Puts the record's cells in row `r` of `data` (one array per column). */
  fill(src: Buffer, start: number, end: number, data: unknown[][], r: number): void {
    const { places } = this;
    if (!places.place(src, start, end)) {
      const row = this.slow(src.toString('utf8', start, end));
      for (let c = 0; c < data.length; c++) data[c][r] = row[c];
      return;
    }
    const { reader, at, types } = places;
    for (let c = 0; c < data.length; c++) {
      const n = at[c] ?? -1;
      data[c][r] = n < 0 ? null : bytesCell(reader, n, types[c] ?? 'string');
    }
  }
}

/** parquetCell of value `n` of the reader's record. */
function bytesCell(
  reader: RecordBytes,
  n: number,
  type: ColumnType,
): string | bigint | number | boolean | null {
  const tag = reader.tags[n];
  if (tag === VALUE.null) return null;
  const { src } = reader;
  const from = reader.starts[n] ?? 0;
  const to = reader.ends[n] ?? 0;
  switch (type) {
    case 'int64':
      return BigInt(src.toString('latin1', from, to));
    case 'double':
      return Number(src.toString('latin1', from, to));
    case 'boolean':
      return tag === VALUE.true;
    case 'timestamp':
      return BigInt(Date.parse(bytesString(reader, n)));
    case 'json':
      return src.toString('utf8', from, to);
    case 'string':
      if (tag === VALUE.string) return bytesString(reader, n);
      if (tag === VALUE.true) return 'true';
      if (tag === VALUE.false) return 'false';
      return src.toString(tag === VALUE.number ? 'latin1' : 'utf8', from, to);
  }
}

/** A string value of the reader's record, decoded. */
export function bytesString(reader: RecordBytes, n: number): string {
  const from = reader.starts[n] ?? 0;
  const to = reader.ends[n] ?? 0;
  return reader.escaped[n] === 1
    ? (JSON.parse(reader.src.toString('utf8', from, to)) as string)
    : reader.src.toString('utf8', from + 1, to - 1);
}

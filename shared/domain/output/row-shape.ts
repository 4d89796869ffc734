import { integrityError } from '../errors';
import type { Column, ColumnType } from './column-types';
import { KIND, kindsOfType, typeOfKinds } from './column-types';
import { ColumnPaths } from './column-paths';
import { RecordBytes } from './record-bytes';
import { OVERFLOW_PATH } from './run-schema';

const ALL_KINDS = Object.values(KIND);

/**
 * The run's columns, and where each value of a record goes (record-bytes.ts reads the record, or the record path
 * reports its values as it writes it): what CSV rows (csv-format.ts) and Parquet's typed columns (parquet-columns.ts)
 * are written from. `place` puts each value in its column (`at`, one cell per column, null where
 * the record has none). A value the schema has no room for (no column, or a kind its column's type cannot hold)
 * means the source changed between the first pass and this one: the run cannot keep one schema, so it fails instead
 * of writing a file that disagrees with its manifest. Values without a column go, as JSON text, into the overflow
 * column when the run has one (`overflow`).
 */
export class ColumnPlaces {
  private readonly own = new RecordBytes();
  /** The table of the record last placed. */
  reader: RecordBytes = this.own;
  /** Per column: the placed record's value in it (an index into the reader's table), or -1. */
  readonly at: Int32Array;
  readonly types: readonly ColumnType[];
  /** The overflow column's index, if the run has one. */
  readonly overflowAt: number;
  /** The overflow column's cell of the record last placed: its values without a column, as JSON text, or null. */
  overflow: string | null = null;
  private readonly names: readonly string[];
  private readonly paths = new ColumnPaths<number>();
  /** Per column: the kind bits its type accepts (one bit at a time: a value has one kind). */
  private readonly accepted: Int32Array;
  private readonly timestamp: Uint8Array;

  constructor(columns: readonly Column[]) {
    const width = columns.length;
    this.at = new Int32Array(width);
    this.types = columns.map((c) => c.type);
    this.names = columns.map((c) => c.name);
    this.accepted = new Int32Array(width);
    this.timestamp = new Uint8Array(width);
    let overflowAt = -1;
    columns.forEach((column, i) => {
      const [top = '', sub] = column.path;
      if (column.path.length === OVERFLOW_PATH.length && top === OVERFLOW_PATH[0]) overflowAt = i;
      else this.paths.set(top, sub, i);
      const own = kindsOfType(column.type);
      let accepted = 0;
      for (const kind of ALL_KINDS) if (typeOfKinds(own | kind) === column.type) accepted |= kind;
      this.accepted[i] = accepted;
      this.timestamp[i] = column.type === 'timestamp' ? 1 : 0;
    });
    this.overflowAt = overflowAt;
  }

  /** Reads the record src[start, end) and places its values. */
  place(src: Buffer, start: number, end: number): void {
    this.own.read(src, start, end);
    this.placeValues(this.own);
  }

  /** Places the values of a record's table (read, or reported by the record path as it wrote the record). */
  placeValues(reader: RecordBytes): void {
    this.reader = reader;
    this.overflow = null;
    const { at } = this;
    at.fill(-1);
    let overflow: Record<string, string> | undefined;
    const { tops, subs } = reader;
    for (let n = 0; n < reader.count; n += 1) {
      const top = tops[n] ?? '';
      const sub = subs[n];
      const column = this.paths.get(top, sub);
      if (column !== undefined) {
        const kind = reader.kind(n, this.timestamp[column] === 1);
        if (kind !== 0 && ((this.accepted[column] ?? 0) & kind) === 0)
          throw sourceChanged(`${this.names[column]} holds a value its type (${this.types[column]}) cannot`);
        at[column] = n;
        continue;
      }
      const name = sub === undefined ? top : `${top}.${sub}`;
      if (this.overflowAt < 0) throw sourceChanged(`no column for ${name}`);
      (overflow ??= Object.create(null) as Record<string, string>)[name] = reader.text(n);
    }
    if (overflow) this.overflow = objectText(overflow);
  }
}

/** An object of JSON texts as JSON text, keys in the order JavaScript enumerates them (as JSON.stringify would). */
const objectText = (fields: Record<string, string>): string =>
  `{${Object.keys(fields)
    .map((key) => `${JSON.stringify(key)}:${fields[key]}`)
    .join(',')}}`;

const sourceChanged = (detail: string) =>
  integrityError('sourceChanged', `the source changed after the run's schema was decided: ${detail}`);

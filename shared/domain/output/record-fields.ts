import type { ExportKind } from '../export-request';
import type { ObservedColumn } from './column-types';
import { KIND } from './column-types';
import { ColumnPaths } from './column-paths';
import { RecordBytes } from './record-bytes';

/**
 * The record path writes each record as sanitised JSON text whose numbers keep the source's digits. The columnar
 * formats read that text with RecordBytes (record-bytes.ts), which reports each column-level value with its kind
 * and its literal, so 9007199254740993 reaches an INT64 column, and 1e400 a text
 * cell, without passing through a double.
 */

/** The envelope: the fields every record of a kind has, first in every file, never nullable. */
export const ENVELOPE: Record<ExportKind, readonly { name: string; kinds: number }[]> = {
  events: [
    { name: 'name', kinds: KIND.string },
    { name: 'time', kinds: KIND.timestamp },
  ],
  profiles: [
    { name: 'id', kinds: KIND.string },
    { name: 'time', kinds: KIND.timestamp },
  ],
};

interface Seen {
  path: string[];
  kinds: number;
  present: number;
  nulls: boolean;
}

/**
 * Collects which columns a stream of records has and what they hold, keeping only the columns (at most
 * maxColumns of them), never the records: the first pass of a chunk needs memory for its schema only. A column is
 * a top-level field, or a field one level into a top-level object (`props.Amount`); an empty object is none.
 */
export class SchemaObserver {
  records = 0;
  /** More distinct columns than maxColumns were seen: the rest go to the overflow column. */
  overflow = false;
  /** In the order first seen. */
  private readonly order: Seen[] = [];
  private readonly paths = new ColumnPaths<Seen>();
  private readonly reader = new RecordBytes();

  constructor(private readonly maxColumns: number) {}

  /** One record, as the record path's JSON text. */
  observe(json: string): void {
    const bytes = Buffer.from(json);
    this.observeBytes(bytes, 0, bytes.length);
  }

  /** One record, as the record path wrote it: src[start, end), its UTF-8 JSON text. */
  observeBytes(src: Buffer, start: number, end: number): void {
    this.reader.read(src, start, end);
    this.observeValues(this.reader);
  }

  /** One record, as the table of its values (read, or reported by the record path as it wrote the record). */
  observeValues(reader: RecordBytes): void {
    this.records += 1;
    const { tops, subs: subNames } = reader;
    for (let n = 0; n < reader.count; n += 1) {
      const top = tops[n] ?? '';
      const sub = subNames[n];
      let column = this.paths.get(top, sub);
      if (!column) {
        if (this.order.length >= this.maxColumns) {
          this.overflow = true;
          continue;
        }
        column = { path: sub === undefined ? [top] : [top, sub], kinds: 0, present: 0, nulls: false };
        this.order.push(column);
        this.paths.set(top, sub, column);
      }
      column.present += 1;
      const kind = reader.kind(n, sub === undefined && top === 'time');
      if (kind === 0) column.nulls = true;
      column.kinds |= kind;
    }
  }

  columns(): ObservedColumn[] {
    return this.order.map((c) => ({
      path: c.path,
      kinds: c.kinds,
      nullable: c.nulls || c.present < this.records,
    }));
  }
}

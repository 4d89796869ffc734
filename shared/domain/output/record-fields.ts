import { LosslessNumber, isLosslessNumber, parse, stringify } from 'lossless-json';
import type { ExportKind } from '../export-request';
import type { ObservedColumn } from './column-types';
import { KIND, numberKind, pathKey } from './column-types';

/**
 * The record path writes each record as sanitised JSON text whose numbers keep the source's digits. The columnar
 * formats read that text back with lossless-json, which keeps every number as its literal (a LosslessNumber), so
 * 9007199254740993 reaches an INT64 column, and 1e400 a text cell, without passing through a double.
 */
export type JsonValue = null | boolean | string | LosslessNumber | JsonValue[] | { [key: string]: JsonValue };
export type JsonRecord = Record<string, JsonValue>;

export function parseRecordJson(json: string): JsonRecord {
  return parse(json) as JsonRecord;
}

/** JSON text of a value, numbers as their literals. */
export const jsonText = (value: JsonValue): string => stringify(value) ?? 'null';

export { isLosslessNumber };

const isObject = (value: JsonValue): value is { [key: string]: JsonValue } =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value);

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

/**
 * Visits the record's column-level values: a top-level object is flattened one level (`props.Amount`), every other
 * top-level value is one column. An empty object contributes no column.
 */
export function forEachField(
  record: JsonRecord,
  visit: (path: readonly [string] | readonly [string, string], value: JsonValue) => void,
): void {
  for (const top of Object.keys(record)) {
    const value = record[top];
    if (!isObject(value)) {
      visit([top], value);
      continue;
    }
    for (const sub of Object.keys(value)) visit([top, sub], value[sub]);
  }
}

/** The kind bit of one value; 0 for null. */
export function kindOf(value: JsonValue, timestamp: boolean): number {
  if (value === null) return 0;
  if (typeof value === 'string') return timestamp ? KIND.timestamp : KIND.string;
  if (typeof value === 'boolean') return KIND.boolean;
  if (isLosslessNumber(value)) return numberKind(value.value);
  return KIND.nested;
}

interface Seen {
  path: string[];
  kinds: number;
  present: number;
  nulls: boolean;
}

/**
 * Collects which columns a stream of records has and what they hold, keeping only the columns (at most
 * maxColumns of them), never the records: the first pass of a chunk needs memory for its schema only.
 */
export class SchemaObserver {
  records = 0;
  /** More distinct columns than maxColumns were seen: the rest go to the overflow column. */
  overflow = false;
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly maxColumns: number) {}

  observe(json: string): void {
    this.records += 1;
    forEachField(parseRecordJson(json), (path, value) => {
      const key = pathKey(path);
      let column = this.seen.get(key);
      if (!column) {
        if (this.seen.size >= this.maxColumns) {
          this.overflow = true;
          return;
        }
        column = { path: [...path], kinds: 0, present: 0, nulls: false };
        this.seen.set(key, column);
      }
      column.present += 1;
      if (value === null) column.nulls = true;
      column.kinds |= kindOf(value, path.length === 1 && path[0] === 'time');
    });
  }

  columns(): ObservedColumn[] {
    return [...this.seen.values()].map((c) => ({
      path: c.path,
      kinds: c.kinds,
      nullable: c.nulls || c.present < this.records,
    }));
  }
}

export { LosslessNumber };

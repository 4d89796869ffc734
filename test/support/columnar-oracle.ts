import type { LosslessNumber } from 'lossless-json';
import { isLosslessNumber, parse, stringify } from 'lossless-json';
import type { ObservedColumn } from '../../shared/domain/output/column-types';
import { KIND, numberKind, pathKey } from '../../shared/domain/output/column-types';
import type { Column, ColumnType } from '../../shared/domain/output/column-types';
import { kindsOfType, typeOfKinds } from '../../shared/domain/output/column-types';
import { OVERFLOW_PATH } from '../../shared/domain/output/run-schema';
import { stringify as csvStringify } from 'csv-stringify/sync';

/**
 * The columnar formats' reader as it was before the record path's text was read directly (now
 * shared/domain/output/record-bytes.ts): every record parsed with lossless-json, twice (the schema pass and the rows),
 * and one csv-stringify call per row. Kept only as the oracle of the differential test
 * (test/unit/domain/output/row-shape.test.ts); the product never uses it.
 */

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
export class OracleSchemaObserver {
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

/** A record laid out on the run's columns: one cell per column, undefined where the record has no value. */
export type Row = (JsonValue | undefined)[];

const accepts = (type: ColumnType, kind: number): boolean =>
  kind === 0 || typeOfKinds(kindsOfType(type) | kind) === type;

/**
 * Lays records out on the run's columns. A value the schema has no room for (no column, or a kind its column's
 * type cannot hold) means the source changed between the first pass and this one: the run cannot keep one schema,
 * so it fails instead of writing a file that disagrees with its manifest.
 */
export function oracleRowShaper(columns: readonly Column[]): (json: string) => Row {
  const index = new Map(columns.map((column, i) => [pathKey(column.path), i]));
  const overflowAt = index.get(pathKey(OVERFLOW_PATH));
  return (json) => {
    const row: Row = new Array<JsonValue | undefined>(columns.length);
    let overflow: Record<string, JsonValue> | undefined;
    forEachField(parseRecordJson(json), (path, value) => {
      const at = index.get(pathKey(path));
      const column = at === undefined ? undefined : columns[at];
      if (at !== undefined && column) {
        if (!accepts(column.type, kindOf(value, column.type === 'timestamp')))
          throw sourceChanged(`${column.name} holds a value its type (${column.type}) cannot`);
        row[at] = value;
        return;
      }
      if (overflowAt === undefined) throw sourceChanged(`no column for ${path.join('.')}`);
      (overflow ??= Object.create(null) as Record<string, JsonValue>)[path.join('.')] = value;
    });
    if (overflow && overflowAt !== undefined) row[overflowAt] = overflow;
    return row;
  };
}

const sourceChanged = (detail: string) => new Error(`sourceChanged: ${detail}`);

/** A cell as text (CSV): numbers as their literals, nested values as JSON; null and absent are empty. */
export function oracleCellText(value: JsonValue | undefined, type: ColumnType): string | null {
  if (value === undefined || value === null) return null;
  if (type === 'json') return jsonText(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (isLosslessNumber(value)) return value.value;
  return jsonText(value);
}

/** A cell as the Parquet writer takes it for the column's physical type. */
export function oracleCellValue(
  value: JsonValue | undefined,
  type: ColumnType,
): string | bigint | number | boolean | null {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'int64':
      return BigInt((value as { value: string }).value);
    case 'double':
      return Number((value as { value: string }).value);
    case 'boolean':
      return value as boolean;
    case 'timestamp':
      return BigInt(Date.parse(value as string));
    case 'json':
      return jsonText(value);
    case 'string':
      return oracleCellText(value, type);
  }
}

const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /^$/ } as const;

/** A CSV row as csv-stringify wrote it, one call per row. */
export function oracleCsvRow(columns: readonly Column[]): (json: string) => string {
  const shape = oracleRowShaper(columns);
  const types = columns.map((c) => c.type);
  return (json) => {
    const row = shape(json);
    return csvStringify([types.map((type, i) => oracleCellText(row[i], type))], CSV_OPTIONS);
  };
}

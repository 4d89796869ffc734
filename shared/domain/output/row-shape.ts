import { integrityError } from '../errors';
import type { Column, ColumnType } from './column-types';
import { kindsOfType, pathKey, typeOfKinds } from './column-types';
import type { JsonValue } from './record-fields';
import { forEachField, isLosslessNumber, jsonText, kindOf, parseRecordJson } from './record-fields';
import { OVERFLOW_PATH } from './run-schema';

/** A record laid out on the run's columns: one cell per column, undefined where the record has no value. */
export type Row = (JsonValue | undefined)[];

const accepts = (type: ColumnType, kind: number): boolean =>
  kind === 0 || typeOfKinds(kindsOfType(type) | kind) === type;

/**
 * Lays records out on the run's columns. A value the schema has no room for (no column, or a kind its column's
 * type cannot hold) means the source changed between the first pass and this one: the run cannot keep one schema,
 * so it fails instead of writing a file that disagrees with its manifest.
 */
export function rowShaper(columns: readonly Column[]): (json: string) => Row {
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

const sourceChanged = (detail: string) =>
  integrityError('sourceChanged', `the source changed after the run's schema was decided: ${detail}`);

/** A cell as text (CSV): numbers as their literals, nested values as JSON; null and absent are empty. */
export function cellText(value: JsonValue | undefined, type: ColumnType): string | null {
  if (value === undefined || value === null) return null;
  if (type === 'json') return jsonText(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (isLosslessNumber(value)) return value.value;
  return jsonText(value);
}

/** A cell as the Parquet writer takes it for the column's physical type. */
export function cellValue(
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
      return cellText(value, type);
  }
}

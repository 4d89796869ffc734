import { integrityError } from '../errors';
import type { Column, ColumnType } from './column-types';
import { kindsOfType, typeOfKinds } from './column-types';
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

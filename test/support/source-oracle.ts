import { isLosslessNumber, parse as parseLossless } from 'lossless-json';

/**
 * The tests' oracle for CSV and Parquet: a source record's value at a column path, read with lossless-json
 * (numbers keep their digits), independently of the writers' own code.
 */
export type SourceValue =
  null | boolean | string | { value: string } | SourceValue[] | { [key: string]: SourceValue };

export function sourceField(line: string, columnPath: readonly string[]): SourceValue | undefined {
  let value = parseLossless(line) as SourceValue;
  for (const key of columnPath) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || isLosslessNumber(value))
      return undefined;
    value = (value as Record<string, SourceValue>)[key];
    if (value === undefined) return undefined;
  }
  return value;
}

export const isNested = (value: SourceValue): boolean =>
  value !== null && typeof value === 'object' && !isLosslessNumber(value);

/** The text a faithful cell holds: numbers as their literals, booleans as words, nested values as JSON. */
export function asText(value: SourceValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (isLosslessNumber(value)) return value.value;
  return JSON.stringify(value);
}

/** Expects `actual` to be the cell of `expected`; nested values are compared after parsing the cell. */
export function expectCell(actual: string, expected: SourceValue, where: Record<string, unknown>): void {
  if (isNested(expected))
    expect({ ...where, value: parseLossless(actual) }).toEqual({ ...where, value: expected });
  else expect({ ...where, text: actual }).toEqual({ ...where, text: asText(expected) });
}

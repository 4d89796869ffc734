import { isLosslessNumber, parse as parseLossless } from 'lossless-json';

/**
 * The tests' oracle for CSV and Parquet: a source record's value at a column path, read with lossless-json
 * (numbers keep their digits), independently of the writers' own code.
 */
export type SourceValue =
  null | boolean | string | { value: string } | SourceValue[] | { [key: string]: SourceValue };

/**
 * The product documentation's rules, restated: in values control characters become "?"; in names white space,
 * "/" and NUL become "-", other control characters "?". (Long names and "."/".." are not exercised here.)
 */
function sanitized(value: SourceValue): SourceValue {
  if (typeof value === 'string') return value.replace(/\p{Cc}/gu, '?');
  if (value === null || typeof value !== 'object' || isLosslessNumber(value)) return value;
  if (Array.isArray(value)) return value.map(sanitized);
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[\s\u0085/\0]/gu, '-').replace(/\p{Cc}/gu, '?'),
      sanitized(inner),
    ]),
  );
}

/** A source line's field at a column path, as the record path writes it (`sanitise` false: as the source has it). */
export function sourceField(
  line: string,
  columnPath: readonly string[],
  sanitise = false,
): SourceValue | undefined {
  let value = parseLossless(line) as SourceValue;
  if (sanitise) value = sanitized(value);
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

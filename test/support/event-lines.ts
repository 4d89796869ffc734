import fc from 'fast-check';
import type { Column } from '../../shared/domain/output/column-types';
import { SchemaObserver } from '../../shared/domain/output/record-fields';
import { resolveRunSchema } from '../../shared/domain/output/run-schema';
import { parseSourceLine } from '../../shared/domain/records/parse-record';

/**
 * Random event source lines for the columnar formats' differential tests (row-shape.test.ts, record-bytes.test.ts,
 * csv-format.test.ts): number literals that keep their digits, strings with escapes, keys that sanitise, objects
 * flattened one level, nested values below.
 */

// Source JSON text, written by hand so that number literals keep their digits and strings their escapes.
export const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? '-0' : String(d))),
  fc.constantFrom(
    '9007199254740993',
    '-9223372036854775808',
    '9223372036854775808',
    '18446744073709551617',
    '1e400',
    '-0',
    '0.1',
    '1E3',
    '3.14159265358979323846',
    '123456789012345',
    '1234567890123456',
    '-123456789012345',
    '0',
    '-1',
  ),
);
export const stringText = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom(
    '"a\\u00e9b"',
    '"x\\/y"',
    '"tab\\there"',
    '"q\\"uote,comma"',
    '"cr\\r\\nlf"',
    '""',
    '"😀\\ud83d\\ude00"',
  ),
);
// Column-level keys (top level and one level in) are never array indices: JavaScript objects list those first,
// so the old path ordered such columns first, where the new one keeps the source's order (tested below). Deeper
// keys include them: there only JSON text is compared, and compared as values (see jsonCells).
const COLUMN_KEYS = ['a', 'b', 'props', 'n', 'x y', 'k\\u00e9', 'deep', 'a.b'];
const DEEP_KEYS = [...COLUMN_KEYS, '1', '10', '__proto__'];
const objectOf = (keys: string[], value: fc.Arbitrary<string>) =>
  fc
    .uniqueArray(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 4, selector: ([k]) => k })
    .map((fields) => `{${fields.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`);
const scalarText = fc.oneof(numberText, stringText, fc.constantFrom('true', 'false', 'null'));

const { value: deepText } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarText,
    objectOf(DEEP_KEYS, tie('value')),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
  ),
}));
/** A top-level value: a scalar, an array, or an object flattened into columns one level deep. */
const valueText = fc.oneof(
  scalarText,
  fc.array(deepText, { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
  objectOf(COLUMN_KEYS, deepText),
);
const keyText = fc.constantFrom(...COLUMN_KEYS).map((k) => `"${k}"`);

export const eventLine = fc
  .tuple(
    fc.constantFrom('"Charged"', '"App Launched"', '"\\u0041pp"'),
    fc.constantFrom('"2026-01-05T10:00:00Z"', '1764287999', '1717236000123'),
    fc.uniqueArray(fc.tuple(keyText, valueText), { maxLength: 6, selector: ([k]) => k }),
  )
  .map(
    ([name, time, extra]) =>
      `{"name":${name}, "time":${time}${extra.map(([k, v]) => `, ${k}:${v}`).join('')}}`,
  );

/** The record path's text of each line it accepts. */
export const recordsOf = (lines: string[]): string[] =>
  lines.flatMap((line) => {
    const parsed = parseSourceLine('events', line);
    return parsed.ok ? [parsed.value.json] : [];
  });

/**
 * Lines a run's schema is made from, later lines it may not hold (a changed source), and the schema's most columns:
 * the case of the columnar writers' differential tests.
 */
export const columnarCase = fc.tuple(
  fc.array(eventLine, { minLength: 1, maxLength: 12 }),
  fc.array(eventLine, { maxLength: 4 }),
  fc.integer({ min: 3, max: 12 }),
);

/** The columns of a run whose only records are these (the record path's texts), with at most `max` of them. */
export function schemaOf(records: readonly string[], max: number): Column[] {
  const observer = new SchemaObserver(max);
  records.forEach((r) => observer.observe(r));
  return resolveRunSchema('events', undefined, [
    { records: observer.records, columns: observer.columns(), overflow: observer.overflow },
  ]).columns;
}

/** What a call returns, or the fact that it threw (two paths compared must refuse the same records). */
export function outcome<T>(fn: () => T): T | 'refused' {
  try {
    return fn();
  } catch {
    return 'refused';
  }
}

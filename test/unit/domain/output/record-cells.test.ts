import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { parse as parseLossless } from 'lossless-json';
import type { Column } from '../../../../shared/domain/output/column-types';
import { csvEncoder } from '../../../../shared/domain/output/csv-format';
import { RecordCells } from '../../../../shared/domain/output/record-cells';
import { SchemaObserver } from '../../../../shared/domain/output/record-fields';
import { parquetCell, rowShaper } from '../../../../shared/domain/output/row-shape';
import { resolveRunSchema } from '../../../../shared/domain/output/run-schema';
import { parseSourceLine } from '../../../../shared/domain/records/parse-record';
import {
  OracleSchemaObserver,
  oracleCellValue,
  oracleCsvRow,
  oracleRowShaper,
} from '../../../support/columnar-oracle';

/**
 * Differential: the columnar path reads the record path's text with RecordCells, where it used to parse every record
 * with lossless-json twice and call csv-stringify per row (test/support/columnar-oracle.ts keeps that path). On
 * random source lines sent through the real record path, both must see the same columns with the same kinds, and
 * write the same CSV rows and Parquet cells, cell for cell — or both refuse a record (a value the schema cannot
 * hold).
 */

const RUNS = Number(process.env.RECORD_CELLS_RUNS ?? 300);

// Source JSON text, written by hand so that number literals keep their digits and strings their escapes.
const numberText = fc.oneof(
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
const stringText = fc.oneof(
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

const eventLine = fc
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
const recordsOf = (lines: string[]): string[] =>
  lines.flatMap((line) => {
    const parsed = parseSourceLine('events', line);
    return parsed.ok ? [parsed.value.json] : [];
  });

/**
 * Cells made comparable: a JSON cell with an array-index key as the value it spells (objects compare regardless of
 * key order: the old path put such keys first, as JavaScript enumerates them, the new one keeps the source's order);
 * every other cell as it is, byte for byte.
 */
function jsonCells(columns: readonly Column[], cells: readonly unknown[]): unknown[] {
  return cells.map((cell, i) =>
    columns[i]?.type === 'json' && typeof cell === 'string' && /"\d+":/.test(cell)
      ? parseLossless(cell)
      : cell,
  );
}

/** A CSV row's cells (csv-parse reads both rows alike), JSON cells as values. */
const csvCells = (columns: readonly Column[], row: string): unknown[] =>
  jsonCells(columns, parseCsv(row).at(0) ?? []);

/** What a call returns, or the fact that it threw (both paths must refuse the same records). */
function outcome<T>(fn: () => T): T | 'refused' {
  try {
    return fn();
  } catch {
    return 'refused';
  }
}

describe('RecordCells against the lossless-json path', () => {
  it('observes the same columns, kinds and nullability', () => {
    fc.assert(
      fc.property(
        fc.array(eventLine, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 2, max: 12 }),
        (lines, max) => {
          const records = recordsOf(lines);
          const fast = new SchemaObserver(max);
          const oracle = new OracleSchemaObserver(max);
          for (const record of records) {
            fast.observe(record);
            oracle.observe(record);
          }
          expect(fast.columns()).toEqual(oracle.columns());
          expect(fast.overflow).toBe(oracle.overflow);
          expect(fast.records).toBe(oracle.records);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('writes the same CSV rows and Parquet cells, or refuses the same records', () => {
    fc.assert(
      fc.property(
        fc.array(eventLine, { minLength: 1, maxLength: 12 }),
        fc.array(eventLine, { maxLength: 4 }),
        fc.integer({ min: 3, max: 12 }),
        (schemaLines, laterLines, max) => {
          const records = recordsOf(schemaLines);
          const observer = new SchemaObserver(max);
          records.forEach((r) => observer.observe(r));
          const { columns } = resolveRunSchema('events', undefined, [
            { records: observer.records, columns: observer.columns(), overflow: observer.overflow },
          ]);
          const csv = csvEncoder(columns);
          const oracleCsv = oracleCsvRow(columns);
          const parquet = rowShaper(columns, parquetCell);
          const oracleShape = oracleRowShaper(columns);
          // The records the schema was made from, and later ones it may not hold (a changed source).
          for (const record of [...records, ...recordsOf(laterLines)]) {
            const row = outcome(() => csv.row(record));
            const oracleRow = outcome(() => oracleCsv(record));
            expect(row === 'refused' ? row : csvCells(columns, row)).toEqual(
              oracleRow === 'refused' ? oracleRow : csvCells(columns, oracleRow),
            );
            // Byte for byte, apart from JSON cells' key order.
            if (row !== 'refused' && !columns.some((c) => c.type === 'json')) expect(row).toBe(oracleRow);
            const cells = outcome(() => parquet(record));
            const oracleCells = outcome(() => {
              const shaped = oracleShape(record);
              return columns.map((column, i) => oracleCellValue(shaped[i], column.type));
            });
            expect(cells === 'refused' ? cells : jsonCells(columns, cells)).toEqual(
              oracleCells === 'refused' ? oracleCells : jsonCells(columns, oracleCells),
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("keeps nested objects' key order as the source wrote it (the one intended difference)", () => {
    const record =
      recordsOf(['{"name":"x","time":"2026-01-05T10:00:00Z","p":{"q":{"b":1,"10":2,"1":3}}}'])[0] ?? '';
    const observer = new SchemaObserver(10);
    observer.observe(record);
    const { columns } = resolveRunSchema('events', undefined, [
      { records: 1, columns: observer.columns(), overflow: false },
    ]);
    expect(csvEncoder(columns).row(record)).toContain('"{""b"":1,""10"":2,""1"":3}"');
    expect(oracleCsvRow(columns)(record)).toContain('"{""1"":3,""10"":2,""b"":1}"');
  });

  it('refuses text the record path does not write, rather than guessing', () => {
    const cells = new RecordCells();
    for (const text of ['', '[]', '{"a":1', '{"a":1}x', '{"a" :1}', '{"a":}', '{"a":"unterminated}'])
      expect(() => cells.read(text, () => undefined)).toThrow(/columnar reader cannot read/);
  });
});

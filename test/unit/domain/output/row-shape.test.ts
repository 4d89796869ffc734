import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { parse as parseLossless } from 'lossless-json';
import type { Column } from '../../../../shared/domain/output/column-types';
import { csvEncoder } from '../../../../shared/domain/output/csv-format';
import { SchemaObserver } from '../../../../shared/domain/output/record-fields';
import { parquetCell, rowShaper } from '../../../support/row-cells';
import { resolveRunSchema } from '../../../../shared/domain/output/run-schema';
import {
  OracleSchemaObserver,
  oracleCellValue,
  oracleCsvRow,
  oracleRowShaper,
} from '../../../support/columnar-oracle';
import { columnarCase, eventLine, recordsOf, outcome, schemaOf } from '../../../support/event-lines';

/**
 * Differential: the columnar path reads the record path's text with RecordBytes, where it used to parse every record
 * with lossless-json twice and call csv-stringify per row (test/support/columnar-oracle.ts keeps that path). On
 * random source lines sent through the real record path, both must see the same columns with the same kinds, and
 * write the same CSV rows and Parquet cells, cell for cell — or both refuse a record (a value the schema cannot
 * hold).
 */

const RUNS = Number(process.env.RECORD_CELLS_RUNS ?? 300);

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

describe('the columnar path against the lossless-json path', () => {
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
      fc.property(columnarCase, ([schemaLines, laterLines, max]) => {
        const records = recordsOf(schemaLines);
        const columns = schemaOf(records, max);
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
      }),
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
});

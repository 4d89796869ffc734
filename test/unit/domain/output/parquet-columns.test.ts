import fc from 'fast-check';
import { ByteWriter } from 'hyparquet-writer';
import type { Column } from '../../../../shared/domain/output/column-types';
import type { ColumnValues } from '../../../../shared/domain/output/parquet-columns';
import { RowGroupColumns } from '../../../../shared/domain/output/parquet-columns';
import { ColumnPlaces } from '../../../../shared/domain/output/row-shape';

/** One column `v` of a type, filled from records `{"v":<text>}`. */
function filled(
  type: Column['type'],
  texts: readonly string[],
): { column: ColumnValues; group: RowGroupColumns } {
  const columns: Column[] = [{ name: 'v', path: ['v'], type, nullable: true }];
  const group = new RowGroupColumns(columns, new ColumnPlaces(columns));
  for (const text of texts) {
    const line = Buffer.from(`{"v":${text}}`);
    group.add(line, 0, line.length);
  }
  const column = group.values[0];
  if (!column) throw new Error('no column');
  return { column, group };
}

const plain = (column: ColumnValues): Buffer => {
  const writer = new ByteWriter();
  column.writePlain(writer, 0, column.count);
  return Buffer.from(writer.getBytes());
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

describe('parquet-columns: typed columns of a row group', () => {
  it('measures a text as the writer does: UTF-16 code units in the dictionary rule, UTF-8 bytes in the page rule', () => {
    const texts = ['a', 'é', '€', '😀', 'a😀é'];
    const { column } = filled(
      'string',
      texts.map((t) => JSON.stringify(t)),
    );
    expect(texts.map((_, k) => column.size(k))).toEqual(texts.map((t) => t.length));
    expect(texts.map((_, k) => column.plainSize(k))).toEqual(texts.map((t) => Buffer.byteLength(t)));
  });

  it('keeps texts as their decoded UTF-8 bytes, in code point order for the statistics', () => {
    // UTF-16 order would put U+FFFF after the emoji (a surrogate pair starts at U+D83D); code point order does not.
    const texts = ['z', '\uffff', '😀', 'é', 'tab\there', 'q"uote'];
    const { column, group } = filled(
      'string',
      texts.map((t) => JSON.stringify(t)),
    );
    const { min, max } = column.extremes();
    const decode = (bytes: unknown): string => Buffer.from(bytes as Uint8Array).toString('utf8');
    expect(decode(column.statistic(min))).toBe('q"uote');
    expect(decode(column.statistic(max))).toBe('😀');
    const statistic = column.statistic(max);
    // A statistic is a copy: the arena is written over by the next row group.
    group.reset();
    const line = Buffer.from('{"v":"xxxxxxxx"}');
    group.add(line, 0, line.length);
    expect(decode(statistic)).toBe('😀');
    expect(plain(column)).toEqual(Buffer.from([8, 0, 0, 0, ...Buffer.from('xxxxxxxx')]));
  });

  it('writes any INT64 literal as its 8 bytes, and finds the extremes, without a BigInt per value', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
            fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
            fc.constantFrom(INT64_MIN, INT64_MAX, 0n, -1n, 2n ** 32n, -(2n ** 32n), 999_999_999_999_999n),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        (values) => {
          const { column } = filled('int64', values.map(String));
          const bytes = plain(column);
          const expected = Buffer.alloc(values.length * 8);
          values.forEach((value, i) => expected.writeBigInt64LE(value, i * 8));
          expect(bytes.equals(expected)).toBe(true);
          const { min, max } = column.extremes();
          const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(column.statistic(min)).toBe(sorted[0]);
          expect(column.statistic(max)).toBe(sorted.at(-1));
          // Equal values are one dictionary entry.
          values.forEach((value, k) =>
            values.forEach((other, j) => {
              if (value === other)
                expect([column.same(k, j), column.hash(k) === column.hash(j)]).toEqual([true, true]);
              else expect(column.same(k, j)).toBe(false);
            }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes 0 and -0 as one dictionary entry, as a JavaScript Map did', () => {
    const { column } = filled('double', ['0.0', '-0.0', '1.5']);
    expect(column.same(0, 1)).toBe(true);
    expect(column.hash(0)).toBe(column.hash(1));
    expect(column.same(0, 2)).toBe(false);
  });

  it('spreads integers held as doubles over the low bits of their hashes, which pick the slot', () => {
    const { column } = filled(
      'double',
      Array.from({ length: 1024 }, (_, i) => `${i}.0`),
    );
    const slots = new Set(Array.from({ length: 1024 }, (_, k) => column.hash(k) & 4095));
    expect(slots.size).toBeGreaterThan(800);
  });

  it('records each row as present or null, and starts again at reset', () => {
    const { column, group } = filled('boolean', ['true', 'null', 'false', 'true']);
    expect([column.rows, column.count, [...column.defs.subarray(0, 4)]]).toEqual([4, 3, [1, 0, 1, 1]]);
    expect(plain(column)).toEqual(Buffer.from([0b101]));
    group.reset();
    expect([column.rows, column.count]).toEqual([0, 0]);
  });
});

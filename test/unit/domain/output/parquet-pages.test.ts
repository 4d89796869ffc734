import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { ByteWriter } from 'hyparquet-writer';
import { ExportError } from '../../../../shared/domain/errors';
import type { Column } from '../../../../shared/domain/output/column-types';
import { writeHybrid } from '../../../../shared/domain/output/parquet-pages';
import { ParquetPartEncoder, RowGroupBudget } from '../../../../shared/domain/output/parquet-format';
import { groupsOf, hyparquetFile } from '../../../support/row-cells';
import { duckdbRows, sqlString } from '../../../support/duckdb';
import { eventLine, outcome, recordsOf, schemaOf } from '../../../support/event-lines';
import { useTempDirs } from '../../../support/temp-dir';

/**
 * Differential: parquet-pages.ts writes a row group's pages from typed columns by hyparquet-writer 0.17's rules,
 * which wrote them from JavaScript values (one per cell). The reference is hyparquet-writer itself, fed the cells the
 * old path made (`parquetCell`): every file must be the same, byte for byte (dictionary or plain, page splits, levels,
 * statistics, compression, footer), or both paths must refuse the records.
 */

const RUNS = Number(process.env.PARQUET_CHUNKS_RUNS ?? 150);
type Codec = 'SNAPPY' | 'UNCOMPRESSED';

const reference = hyparquetFile;

/** The file the part encoder writes, row groups of `rowsPerGroup` records. */
async function written(
  columns: readonly Column[],
  records: readonly string[],
  rowsPerGroup: number,
  codec: Codec,
): Promise<Buffer> {
  const pieces: Buffer[] = [];
  const part = new ParquetPartEncoder(
    columns,
    (bytes) => Promise.resolve(void pieces.push(bytes)),
    new RowGroupBudget(1024 * 1024 * 1024),
    { rowGroupBytes: 1024 * 1024 * 1024, rowGroupRows: rowsPerGroup, codec },
  );
  for (const record of records) await part.add(Buffer.from(`${record}\n`), 1);
  await part.finish();
  return Buffer.concat(pieces);
}

async function expectSameFile(
  columns: readonly Column[],
  records: readonly string[],
  rowsPerGroup: number,
  codec: Codec = 'SNAPPY',
): Promise<Buffer> {
  const ours = await written(columns, records, rowsPerGroup, codec);
  const theirs = reference(columns, groupsOf(records, rowsPerGroup), codec);
  expect(ours.equals(theirs)).toBe(true);
  return ours;
}

describe('parquet-pages: the pages hyparquet-writer writes, from typed columns', () => {
  const dir = useTempDirs();

  it('writes the same file as hyparquet-writer from the same random records, or refuses them too', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventLine, { minLength: 1, maxLength: 40 }),
        // Records repeated: low-cardinality columns, where the dictionary wins, and runs of levels and indexes.
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 3, max: 12 }),
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom<Codec>('SNAPPY', 'UNCOMPRESSED'),
        async (lines, repeat, max, rowsPerGroup, codec) => {
          const unique = recordsOf(lines);
          const records = Array.from(
            { length: unique.length * repeat },
            (_, i) => unique[i % unique.length] ?? '',
          );
          // The schema from the first half: later records may hold what it has no room for (both paths refuse).
          const columns = schemaOf(records.slice(0, Math.max(1, records.length >> 1)), max);
          const ours = await written(columns, records, rowsPerGroup, codec).then(
            (bytes) => bytes,
            () => 'refused' as const,
          );
          const theirs = outcome(() => reference(columns, groupsOf(records, rowsPerGroup), codec));
          if (ours === 'refused' || theirs === 'refused') expect(ours).toBe(theirs);
          else expect(ours.equals(theirs)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('splits a chunk of more than 1 MiB of plain text into pages, with their offset index, as the writer does', async () => {
    // Distinct long texts (plain, split by their UTF-8 bytes), a low-cardinality name (dictionary), booleans with
    // nulls (RLE past 16 values), wide integers and signed zeros (statistics).
    const records = recordsOf(
      Array.from({ length: 3000 }, (_, i) => {
        const big = BigInt(i) * 3_000_000_000_000_000n - 4_000_000_000_000_000_000n;
        const text = `${'é'.repeat(100)}${i}${'x'.repeat(300 + (i % 7))}`;
        const flag = i % 3 === 0 ? 'null' : String(i % 5 === 0);
        const zero = i % 2 === 0 ? '0.0' : '-0.0';
        return `{"name":"E${i % 5}","time":1764287999,"text":"${text}","flag":${flag},"big":${big},"zero":${zero}}`;
      }),
    );
    const columns = schemaOf(records, 20);
    const file = await expectSameFile(columns, records, 3000);
    const at = path.join(dir('pages'), 'part.parquet');
    await writeFile(at, file);
    // Only the text's chunk has more than one page, so only it has an offset index.
    const { parquetMetadata } = await import('hyparquet');
    const metadata = parquetMetadata(Uint8Array.prototype.slice.call(file).buffer);
    const indexed = metadata.row_groups[0]?.columns
      .filter((chunk) => chunk.offset_index_offset !== undefined)
      .map((chunk) => chunk.meta_data?.path_in_schema.join('.'));
    expect(indexed).toEqual(['text']);
    const text = await duckdbRows(
      `SELECT count(DISTINCT text)::INTEGER AS n, min(length(text))::INTEGER AS shortest,
              count(flag)::INTEGER AS flags, min(big)::VARCHAR AS low FROM read_parquet(${sqlString(at)})`,
    );
    expect(text).toEqual([{ n: 3000, shortest: 401, flags: 2000, low: '-4000000000000000000' }]);
  });

  it('weighs texts by UTF-16 code units in the dictionary rule, as the writer does', async () => {
    // 40 distinct two-character values of three UTF-8 bytes each, over 100 rows: by code units the dictionary loses
    // (plain), by bytes it would win.
    const symbols = Array.from({ length: 40 }, (_, i) => String.fromCharCode(0x20ac + i));
    const records = recordsOf(
      Array.from({ length: 100 }, (_, i) => `{"name":"E","time":1764287999,"s":"€${symbols[i % 40]}"}`),
    );
    const columns = schemaOf(records, 5);
    const file = await expectSameFile(columns, records, 100, 'UNCOMPRESSED');
    // A plain page holds every value, 4 bytes of length and 6 of text each.
    expect(file.includes(Buffer.from(`€${symbols[1]}`))).toBe(true);
    expect(file.length).toBeGreaterThan(100 * 10);
  });

  it("refuses a record without a value its column requires: the source changed after the run's schema", async () => {
    const [first = '', second = '', later = ''] = recordsOf(
      ['{"a":1,"b":"x"}', '{"a":2,"b":"y"}', '{"b":"z"}'].map((fields) =>
        fields.replace('{', '{"name":"E","time":1764287999,'),
      ),
    );
    const columns = schemaOf([first, second], 5);
    expect(columns.find((c) => c.name === 'a')?.nullable).toBe(false);
    const refusal = await written(columns, [first, second, later], 10, 'SNAPPY').catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ExportError);
    expect(refusal).toMatchObject({ code: 'sourceChanged' });
    expect((refusal as ExportError).message).toContain('a has no value');
  });
});

describe('writeHybrid', () => {
  /** hyparquet-writer's encoder, the reference. */
  const reference = async (values: number[], bitWidth: number): Promise<Buffer> => {
    const { writeRleBitPackedHybrid } = await import('hyparquet-writer/src/encoding.js');
    const writer = new ByteWriter();
    writeRleBitPackedHybrid(writer, values, bitWidth);
    return Buffer.from(writer.getBytes());
  };

  it('writes what the writer writes for any values and range', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 80 }),
        fc.nat(10),
        fc.nat(10),
        async (bitWidth, runs, before, after) => {
          // Runs of repeated values (lengths 1 to 12), so both RLE runs and bit-packed groups occur.
          const values = runs.flatMap((r, i) => Array<number>(r * 3 + 1).fill(i % (1 << bitWidth || 1)));
          const padded = Int32Array.from([
            ...Array<number>(before).fill(7),
            ...values,
            ...Array<number>(after).fill(7),
          ]);
          const writer = new ByteWriter();
          const length = writeHybrid(writer, padded, before, before + values.length, bitWidth);
          const ours = Buffer.from(writer.getBytes());
          expect(length).toBe(ours.length);
          expect(ours.equals(await reference(values, bitWidth))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

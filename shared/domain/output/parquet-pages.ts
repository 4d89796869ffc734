import type { ParquetWriter } from 'hyparquet-writer';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import type { ColumnValues } from './parquet-columns';
import { BooleanValues, DoubleValues } from './parquet-columns';

/**
 * A row group's column chunks, written from typed columns (parquet-columns.ts) into the file's writer: the part of
 * hyparquet-writer's `ParquetWriter.write` that turned JavaScript values into pages, done here on bytes and typed
 * arrays, into buffers kept from one row group to the next. hyparquet-writer still writes the file's header and its
 * footer (parquet-footer.ts), from the row groups this module adds to its list.
 *
 * Its rules are hyparquet-writer 0.17's, kept exactly, so that a file is byte for byte the one hyparquet-writer writes
 * from the same cells (parquet-pages.test.ts compares them): a column chunk is dictionary-encoded when a sample of
 * 1,000 values does not rule it out and the dictionary with its bit-packed indexes is at most half the plain values;
 * pages of DATA_PAGE_V2 split at 1 MiB of estimated values; definition levels and indexes in the RLE/bit-packed
 * hybrid; statistics with each chunk; each page compressed alone.
 */

type RowGroup = ParquetWriter['row_groups'][number];
type ColumnChunk = RowGroup['columns'][number];
type PageIndexes = ParquetWriter['pendingIndexes'][number];
type OffsetIndex = NonNullable<PageIndexes['offsetIndex']>;
/** hyparquet-writer writes `nan_count`, which hyparquet's types do not list yet. */
type Statistics = NonNullable<NonNullable<ColumnChunk['meta_data']>['statistics']> & { nan_count?: bigint };
export type ParquetCodec = 'SNAPPY' | 'UNCOMPRESSED';

const PAGE_SIZE = 1024 * 1024;
const SAMPLE_SIZE = 1000;
const SAMPLE_REJECTION_RATIO = 0.9;

/** A column chunk's dictionary: its entries, a hash index of them, and each value's entry; reused between chunks. */
class Dictionary {
  /** Open addressing: a slot holds an entry number, or -1. */
  private table = new Int32Array(4096);
  /** Per entry: the value index that stands for it. */
  entries = new Int32Array(1024);
  length = 0;
  /** Per value: its entry. */
  indexes = new Int32Array(1024);

  /**
   * hyparquet-writer's `useDictionary`: whether the column's values are better as a dictionary (building it, with
   * every value's index), by the same sample, the same sizes and the same win check.
   */
  build(column: ColumnValues): boolean {
    if (column.physical === 'BOOLEAN') return false;
    const bytePrefix = column.physical === 'BYTE_ARRAY' ? 4 : 0;
    if (!this.sampleAllows(column, bytePrefix)) return false;
    const count = column.count;
    this.prepare(count);
    if (this.indexes.length < count) this.indexes = new Int32Array(Math.max(count, this.indexes.length * 2));
    const { indexes } = this;
    let dictionaryBytes = 0;
    let totalBytes = 0;
    let sizes = new Float64Array(64);
    for (let k = 0; k < count; k++) {
      const entry = this.find(column, k);
      if (entry === this.length) {
        const size = column.size(k);
        this.add(k);
        if (entry === sizes.length) {
          const grown = new Float64Array(sizes.length * 2);
          grown.set(sizes);
          sizes = grown;
        }
        sizes[entry] = size;
        dictionaryBytes += size;
      }
      totalBytes += sizes[entry] ?? 0;
      indexes[k] = entry;
    }
    const bitWidth = Math.ceil(Math.log2(this.length));
    const indexBytes = Math.ceil((count * bitWidth) / 8);
    const plainBytes = totalBytes + count * bytePrefix;
    const dictionaryValueBytes = dictionaryBytes + this.length * bytePrefix;
    return !(2 * (dictionaryValueBytes + indexBytes) > plainBytes);
  }

  /** The sample: up to 1,000 rows spread over the chunk (nulls weigh nothing), rejected at 90 % distinct bytes. */
  private sampleAllows(column: ColumnValues, bytePrefix: number): boolean {
    const rows = column.rows;
    const sampleSize = Math.min(rows, SAMPLE_SIZE);
    // Row -> value index for the sampled rows, counted as the rows go by (the sample's rows ascend).
    this.prepare(sampleSize);
    const { defs } = column;
    let distinctBytes = 0;
    let totalBytes = 0;
    let row = 0;
    let k = 0;
    for (let i = 0; i < sampleSize; i++) {
      const sampled = sampleSize === 1 ? 0 : Math.floor((i * (rows - 1)) / (sampleSize - 1));
      for (; row < sampled; row++) k += defs[row] ?? 0;
      if (defs[sampled] !== 1) continue;
      const size = column.size(k) + bytePrefix;
      if (this.find(column, k) === this.length) {
        this.add(k);
        distinctBytes += size;
      }
      totalBytes += size;
    }
    return !(!totalBytes || distinctBytes / totalBytes > SAMPLE_REJECTION_RATIO);
  }

  private prepare(values: number): void {
    let slots = this.table.length;
    while (slots < values * 2) slots *= 2;
    if (slots !== this.table.length) this.table = new Int32Array(slots);
    this.table.fill(-1);
    this.length = 0;
  }

  /** Where `find` stopped: the free slot for an entry not there yet. */
  private slot = 0;

  /** The entry holding value `k`'s equal, or `length` when there is none yet (then `add` it). */
  private find(column: ColumnValues, k: number): number {
    const { table, entries } = this;
    const mask = table.length - 1;
    let slot = column.hash(k) & mask;
    for (;;) {
      const entry = table[slot] ?? -1;
      if (entry < 0) break;
      if (column.same(entries[entry] ?? 0, k)) return entry;
      slot = (slot + 1) & mask;
    }
    this.slot = slot;
    return this.length;
  }

  private add(k: number): void {
    const entry = this.length;
    if (entry === this.entries.length) {
      const grown = new Int32Array(entry * 2);
      grown.set(this.entries);
      this.entries = grown;
    }
    this.entries[entry] = k;
    this.table[this.slot] = entry;
    this.length = entry + 1;
  }
}

/** A ByteWriter written from its start again for each page. */
class PageBuffer extends ByteWriter {
  constructor() {
    super(64 * 1024);
  }

  clear(): void {
    this.index = 0;
    this.offset = 0;
  }
}

/** Writes row groups' column chunks; one per encoder of a chunk, its buffers reused. */
export class ParquetPageWriter {
  private readonly dictionary = new Dictionary();
  private readonly levels = new PageBuffer();
  private readonly page = new PageBuffer();
  private readonly booleans = new PageBuffer();

  constructor(readonly codec: ParquetCodec) {}

  /**
   * Writes the columns' rows as one row group at the parquet writer's end, and lists it (and its page indexes) as
   * `ParquetWriter.write` does, for the footer.
   */
  writeRowGroup(parquet: ParquetWriter, columns: readonly ColumnValues[]): void {
    const writer = parquet.writer;
    const rows = columns[0]?.rows ?? 0;
    const groupStart = writer.offset;
    const chunks: ColumnChunk[] = [];
    for (const column of columns) {
      if (column.rows !== rows) throw new Error('parquet columns must have the same length');
      const { chunk, offsetIndex } = this.writeColumn(writer, column);
      chunks.push(chunk);
      parquet.pendingIndexes.push({ chunk, offsetIndex, columnIndex: undefined, bloomFilter: undefined });
    }
    let totalBytes = 0n;
    for (const { meta_data } of chunks) totalBytes += meta_data?.total_uncompressed_size ?? 0n;
    parquet.num_rows += BigInt(rows);
    parquet.row_groups.push({
      columns: chunks,
      total_byte_size: totalBytes,
      num_rows: BigInt(rows),
      total_compressed_size: BigInt(writer.offset - groupStart),
    });
  }

  private writeColumn(
    writer: ParquetWriter['writer'],
    column: ColumnValues,
  ): { chunk: ColumnChunk; offsetIndex: OffsetIndex | undefined } {
    const chunkStart = writer.offset;
    let uncompressedBytes = 0;
    const statistics = this.statistics(column);
    const dictionary = this.dictionary.build(column) ? this.dictionary : undefined;
    let dictionaryOffset: bigint | undefined;
    const encodings: ('PLAIN' | 'RLE' | 'RLE_DICTIONARY')[] = [];
    let encoding: 'PLAIN' | 'RLE' | 'RLE_DICTIONARY';
    if (dictionary) {
      encoding = 'RLE_DICTIONARY';
      dictionaryOffset = BigInt(writer.offset);
      uncompressedBytes += this.writeDictionaryPage(writer, column, dictionary);
      encodings.push('PLAIN');
    } else encoding = column.physical === 'BOOLEAN' && column.rows > 16 ? 'RLE' : 'PLAIN';
    encodings.push(encoding);

    const dataOffset = BigInt(writer.offset);
    const locations: OffsetIndex['page_locations'] = [];
    let pages = 0;
    let start = 0;
    let from = 0;
    const writePage = (end: number, to: number): void => {
      const pageOffset = writer.offset;
      uncompressedBytes += this.writeDataPage(writer, column, encoding, dictionary, start, end, from, to);
      locations.push({
        offset: BigInt(pageOffset),
        compressed_page_size: writer.offset - pageOffset,
        first_row_index: BigInt(start),
      });
      pages += 1;
    };
    // Pages by the writer's estimate of their values' bytes (dictionary indexes count 4 each), at row boundaries.
    const { defs } = column;
    let k = 0;
    let bytes = 0;
    for (let row = 0; row < column.rows; row++) {
      const present = defs[row] === 1;
      const size = !present ? 0 : dictionary ? 4 : column.plainSize(k);
      bytes += size;
      if (bytes >= PAGE_SIZE && row > start) {
        writePage(row, k);
        start = row;
        from = k;
        bytes = size;
      }
      if (present) k += 1;
    }
    if (start < column.rows) writePage(column.rows, k);

    const chunk: ColumnChunk = {
      meta_data: {
        type: column.physical,
        encodings,
        path_in_schema: [column.name],
        codec: this.codec,
        num_values: BigInt(column.rows),
        total_compressed_size: BigInt(writer.offset - chunkStart),
        total_uncompressed_size: BigInt(uncompressedBytes),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics,
        encoding_stats: [
          ...(dictionaryOffset === undefined
            ? []
            : [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }]),
          { page_type: 'DATA_PAGE_V2' as const, encoding, count: pages },
        ],
        geospatial_statistics: undefined,
      },
      file_offset: BigInt(chunkStart),
    };
    return { chunk, offsetIndex: pages > 1 ? { page_locations: locations } : undefined };
  }

  private statistics(column: ColumnValues): Statistics {
    const { min, max } = column.extremes();
    let minValue = min < 0 ? undefined : column.statistic(min);
    let maxValue = max < 0 ? undefined : column.statistic(max);
    // Signed zero as Parquet asks: a minimum of zero is -0, a maximum +0.
    if (minValue === 0) minValue = -0;
    if (maxValue === 0) maxValue = 0;
    return {
      min_value: minValue,
      max_value: maxValue,
      null_count: BigInt(column.rows - column.count),
      nan_count: column instanceof DoubleValues ? BigInt(column.nans()) : undefined,
    };
  }

  private writeDictionaryPage(
    writer: ParquetWriter['writer'],
    column: ColumnValues,
    dictionary: Dictionary,
  ): number {
    const page = this.page;
    page.clear();
    column.writeDictionary(page, dictionary.entries, dictionary.length);
    const bytes = page.getBytes();
    const compressed = this.compress(bytes);
    const headerStart = writer.offset;
    writePageHeader(writer, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: bytes.byteLength,
      compressed_page_size: compressed.byteLength,
      dictionary_page_header: { num_values: dictionary.length, encoding: 'PLAIN' },
    });
    const headerBytes = writer.offset - headerStart;
    writer.appendBytes(compressed);
    return headerBytes + bytes.byteLength;
  }

  /** Rows [start, end), whose values are [from, to); returns the page's uncompressed size with its header. */
  private writeDataPage(
    writer: ParquetWriter['writer'],
    column: ColumnValues,
    encoding: 'PLAIN' | 'RLE' | 'RLE_DICTIONARY',
    dictionary: Dictionary | undefined,
    start: number,
    end: number,
    from: number,
    to: number,
  ): number {
    const { levels, page } = this;
    levels.clear();
    page.clear();
    const levelBytes = column.nullable ? writeHybrid(levels, column.defs, start, end, 1) : 0;
    if (dictionary) {
      const { indexes } = dictionary;
      let maxIndex = 0;
      for (let k = from; k < to; k++) if ((indexes[k] ?? 0) > maxIndex) maxIndex = indexes[k] ?? 0;
      const bitWidth = Math.ceil(Math.log2(maxIndex + 1));
      page.appendUint8(bitWidth);
      writeHybrid(page, indexes, from, to, bitWidth);
    } else if (encoding === 'RLE' && column instanceof BooleanValues) {
      const booleans = this.booleans;
      booleans.clear();
      writeHybrid(booleans, column.values, from, to, 1);
      page.appendUint32(booleans.offset);
      page.appendBytes(booleans.getBytes());
    } else column.writePlain(page, from, to);

    const bytes = page.getBytes();
    const compressed = this.compress(bytes);
    const headerStart = writer.offset;
    writePageHeader(writer, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.offset + page.offset,
      compressed_page_size: levels.offset + compressed.length,
      data_page_header_v2: {
        num_values: end - start,
        num_nulls: end - start - (to - from),
        num_rows: end - start,
        encoding,
        definition_levels_byte_length: levelBytes,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    });
    const headerBytes = writer.offset - headerStart;
    writer.appendBytes(levels.getBytes());
    writer.appendBytes(compressed);
    return headerBytes + levels.offset + page.offset;
  }

  private compress(bytes: Uint8Array): Uint8Array {
    return this.codec === 'SNAPPY' ? snappyCompress(bytes) : bytes;
  }
}

/**
 * The RLE / bit-packed hybrid of values [from, to), as hyparquet-writer writes it: at each group of eight, a run of
 * eight or more equal values is one RLE run, anything else joins the pending bit-packed groups (the last padded with
 * zeros). Returns the bytes written.
 */
export function writeHybrid(
  writer: ByteWriter,
  values: Uint8Array | Int32Array,
  from: number,
  to: number,
  bitWidth: number,
): number {
  const offsetStart = writer.offset;
  let pendingGroups = 0;
  let packedStart = 0;
  let i = from;
  while (i < to) {
    let run = 1;
    const first = values[i] ?? 0;
    while (i + run < to && values[i + run] === first) run++;
    if (run >= 8) {
      if (pendingGroups) {
        writePacked(writer, values, packedStart, pendingGroups, bitWidth, to);
        pendingGroups = 0;
      }
      writer.appendVarInt(run << 1);
      const width = (bitWidth + 7) >> 3;
      for (let j = 0; j < width; j++) writer.appendUint8((first >> (j << 3)) & 0xff);
      i += run;
    } else {
      if (pendingGroups === 0) packedStart = i;
      pendingGroups++;
      i += 8;
    }
  }
  if (pendingGroups) writePacked(writer, values, packedStart, pendingGroups, bitWidth, to);
  return writer.offset - offsetStart;
}

function writePacked(
  writer: ByteWriter,
  values: Uint8Array | Int32Array,
  start: number,
  groups: number,
  bitWidth: number,
  to: number,
): void {
  writer.appendVarInt((groups << 1) | 1);
  if (bitWidth === 0) return;
  const mask = (1 << bitWidth) - 1;
  let buffer = 0;
  let bitsUsed = 0;
  const end = start + groups * 8;
  for (let i = start; i < end; i++) {
    const v = i < to ? (values[i] ?? 0) & mask : 0;
    buffer |= v << bitsUsed;
    bitsUsed += bitWidth;
    while (bitsUsed >= 8) {
      writer.appendUint8(buffer & 0xff);
      buffer >>>= 8;
      bitsUsed -= 8;
    }
  }
  if (bitsUsed > 0) writer.appendUint8(buffer & 0xff);
}

import type { ParquetWriter } from 'hyparquet-writer';
import { ByteWriter } from 'hyparquet-writer';
import { writeBlooms } from 'hyparquet-writer/src/bloom.js';
import { writeIndexes } from 'hyparquet-writer/src/indexes.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';

type RowGroup = ParquetWriter['row_groups'][number];
type PageIndexes = ParquetWriter['pendingIndexes'][number];

/**
 * Thrift compact protocol: a list's header byte is its size (below 15) over its element type, struct being 12; the
 * writer heads an empty list with 0, as it infers the type from the first element.
 */
const STRUCT = 12;
const EMPTY_LIST = 0;
const ONE_ITEM_LIST = (1 << 4) | STRUCT;
const PAR1 = 0x31524150;

/** Page indexes and bloom filters are written after the last row group and change its chunks: such a group waits. */
function waitsForIndexes(entry: PageIndexes): boolean {
  return (
    (entry.columnIndex !== undefined && entry.columnIndex.min_values.length > 1) ||
    (entry.offsetIndex !== undefined && entry.offsetIndex.page_locations.length > 1) ||
    entry.bloomFilter !== undefined
  );
}

/** A copy of the text in a string of its own, however it was made (a slice keeps the string it was cut from). */
const ownString = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

/**
 * The footer of one Parquet file, its row groups serialised as they are written. hyparquet-writer keeps every row
 * group's metadata as JavaScript objects until the footer (about 1 KiB per column chunk): memory that grew with the
 * chunk, and the larger live heap let V8 grow its heap further before collecting (docs/PERFORMANCE.md, "Parquet
 * memory flat in the chunk"). Here each row group becomes its Thrift bytes (77 bytes per column chunk, measured with
 * 24 columns) as soon as the writer made it, and the objects are dropped.
 *
 * The bytes come from hyparquet-writer's own `writeMetadata`: a footer with no row group and one with this row group
 * differ exactly by the list's header byte and the row group's bytes, so the row group is cut out of the second. The
 * file is byte for byte the one the writer's `finish()` would write (a differential test compares them). A row group
 * with a page index or a bloom filter to come is kept as objects until the end, as the writer does, since writing
 * those indexes sets offsets inside it; with one page per column chunk, as row groups of this size have, none is.
 */
export class ParquetFooter {
  /** Serialised row groups, in order, back to back. */
  private readonly sealed = new ByteWriter(64 * 1024);
  /** Row groups in file order: the end of its bytes in `sealed`, or the row group itself when it waits for indexes. */
  private readonly groups: (number | RowGroup)[] = [];
  /** The indexes and filters still to write, of the row groups kept as objects. */
  private readonly pending: PageIndexes[] = [];
  /**
   * A footer with no row group and no rows, where its row group list's header byte sits, and how many bytes follow
   * that list (the same in every footer of this file): found at the first row group.
   */
  private layout: { empty: Uint8Array; listAt: number; tail: number } | undefined;

  constructor(private readonly parquet: ParquetWriter) {}

  /** Takes the row groups the writer has made since the last call; call it after each `write`. */
  seal(): void {
    const { parquet } = this;
    const made = parquet.row_groups.splice(0);
    const indexes = parquet.pendingIndexes.splice(0);
    for (const group of made) {
      const chunks = new Set(group.columns);
      const waiting = indexes.filter((entry) => chunks.has(entry.chunk) && waitsForIndexes(entry));
      if (waiting.length === 0) {
        this.sealed.appendBytes(this.rowGroupBytes(group));
        this.groups.push(this.sealed.offset);
        continue;
      }
      this.pending.push(...waiting);
      this.groups.push(ownStatistics(group));
    }
  }

  /** Row groups kept as objects until the end (for tests: how far sealing reaches). */
  get kept(): number {
    return this.groups.filter((group) => typeof group !== 'number').length;
  }

  /** The indexes, filters, footer and closing magic number, as `ParquetWriter.finish()` writes them. */
  finish(): void {
    const { parquet } = this;
    const writer = parquet.writer;
    writeIndexes(writer, this.pending);
    writeBlooms(writer, this.pending);
    const empty = this.metadata([], parquet.num_rows);
    const sealed = this.sealed.getBytes();
    let from = 0;
    const groups = this.groups.map((group) => {
      if (typeof group !== 'number') return this.rowGroupBytes(group);
      const bytes = sealed.subarray(from, group);
      from = group;
      return bytes;
    });
    if (this.layout === undefined) {
      writer.appendBytes(empty);
      writer.appendUint32(PAR1);
      return;
    }
    // The list's header byte sits just before what follows the list, whatever the count of rows before it.
    const listAt = empty.length - 4 - this.layout.tail - 1;
    const start = writer.offset;
    writer.appendBytes(empty.subarray(0, listAt));
    if (groups.length < 15) writer.appendUint8((groups.length << 4) | STRUCT);
    else {
      writer.appendUint8((15 << 4) | STRUCT);
      writer.appendVarInt(groups.length);
    }
    for (const bytes of groups) writer.appendBytes(bytes);
    writer.appendBytes(empty.subarray(listAt + 1, empty.length - 4));
    writer.appendUint32(writer.offset - start);
    writer.appendUint32(PAR1);
  }

  /** A row group's Thrift bytes: a footer holding it alone, less the footer around it. */
  private rowGroupBytes(group: RowGroup): Uint8Array {
    const one = this.metadata([group], 0n);
    this.layout ??= this.findLayout(one);
    const { empty, listAt, tail } = this.layout;
    if (
      one[listAt] !== ONE_ITEM_LIST ||
      !sameBytes(one.subarray(0, listAt), empty.subarray(0, listAt)) ||
      !sameBytes(
        one.subarray(one.length - 4 - tail, one.length - 4),
        empty.subarray(listAt + 1, listAt + 1 + tail),
      )
    )
      throw new Error('parquet footer: hyparquet-writer wrote a footer of an unexpected layout');
    return one.slice(listAt + 1, one.length - 4 - tail);
  }

  private findLayout(one: Uint8Array): { empty: Uint8Array; listAt: number; tail: number } {
    const empty = this.metadata([], 0n);
    let listAt = 0;
    while (listAt < empty.length && empty[listAt] === one[listAt]) listAt += 1;
    if (empty[listAt] !== EMPTY_LIST)
      throw new Error('parquet footer: hyparquet-writer wrote a footer of an unexpected layout');
    return { empty, listAt, tail: empty.length - 4 - (listAt + 1) };
  }

  private metadata(rowGroups: RowGroup[], rows: bigint): Uint8Array {
    const { parquet } = this;
    const writer = new ByteWriter();
    writeMetadata(
      writer,
      {
        version: 2,
        created_by: parquet.createdBy,
        schema: parquet.schema,
        num_rows: rows,
        row_groups: rowGroups,
        key_value_metadata: parquet.kvMetadata,
      } as Parameters<typeof writeMetadata>[1],
      parquet.statisticsTruncateLength,
    );
    return writer.getBytes();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** Min and max cells are slices of the record lines: copied, so a kept row group does not keep its lines. */
function ownStatistics(group: RowGroup): RowGroup {
  for (const column of group.columns) {
    const statistics = column.meta_data?.statistics;
    if (statistics === undefined) continue;
    if (typeof statistics.min_value === 'string') statistics.min_value = ownString(statistics.min_value);
    if (typeof statistics.max_value === 'string') statistics.max_value = ownString(statistics.max_value);
  }
  return group;
}

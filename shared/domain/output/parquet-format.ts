import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Column, ColumnType } from './column-types';
import { ParquetPageWriter } from './parquet-pages';
import { RowGroupColumns } from './parquet-columns';
import { ParquetFooter } from './parquet-footer';
import { ColumnPlaces } from './row-shape';

/**
 * Parquet in hyparquet-writer's layout (chosen by measurement: docs/FORMATS.md): its header and footer, and its rules
 * for pages, which parquet-pages.ts applies to typed columns (parquet-columns.ts) instead of JavaScript values.
 * Column types from the run's schema: int64 as INT64 from the literal's digits, timestamps as TIMESTAMP(MILLIS, UTC),
 * nested values as JSON text, SNAPPY pages. Records are buffered as their JSON text (compact, and its size is known)
 * and turned into columns one row group at a time, so a part holds at most one row group, and all parts of a chunk
 * share one budget. A row group closes at 4 MiB of JSON (about 12,000 demo events): the budget, not the encoding,
 * bounds memory since the typed columns (docs/PERFORMANCE.md, "Parquet pages from typed columns": larger budgets
 * made files 6-9 % smaller for 13-40 MiB more).
 */

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

export interface ParquetOptions {
  /** A row group closes at this many buffered JSON bytes, or rows, or cells, whichever comes first. */
  rowGroupBytes: number;
  rowGroupRows: number;
  /** Rows times columns (MAX_ROW_GROUP_CELLS unless given). */
  rowGroupCells?: number;
  codec: 'SNAPPY' | 'UNCOMPRESSED';
}

/**
 * A row group's cells, null ones included: every column keeps a definition level per row (a byte) whether the row
 * has a value there or not, so a sparse record costs every column. Without this bound, 4 MiB of one-field records
 * on a run of 1,000 columns (MAX_COLUMNS) would be about 400,000 rows and 400 MB of levels; with it, 4,000 rows.
 */
export const MAX_ROW_GROUP_CELLS = 4 * 1024 * 1024;

export const DEFAULT_PARQUET_OPTIONS: ParquetOptions = {
  rowGroupBytes: 4 * 1024 * 1024,
  rowGroupRows: 1_000_000,
  codec: 'SNAPPY',
};

const OPTIONAL = 'OPTIONAL' as const;
const REQUIRED = 'REQUIRED' as const;

function schemaElement(column: Column): SchemaElement {
  const repetition_type = column.nullable ? OPTIONAL : REQUIRED;
  const name = column.name;
  const physical: Record<ColumnType, Omit<SchemaElement, 'name'>> = {
    string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
    int64: { type: 'INT64' },
    double: { type: 'DOUBLE' },
    boolean: { type: 'BOOLEAN' },
    timestamp: {
      type: 'INT64',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    },
    // JSON text in a STRING column. The writer's JSON type would turn big integers into doubles and encode our
    // text a second time, and a JSON logical type over a UTF8 converted type is a contradiction readers resolve
    // differently; the manifest says the column holds JSON.
    json: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  };
  return { name, repetition_type, ...physical[column.type] };
}

export function parquetSchema(columns: readonly Column[]): SchemaElement[] {
  return [{ name: 'schema', num_children: columns.length }, ...columns.map(schemaElement)];
}

const BLOCK_BYTES = 64 * 1024;

/**
 * The 64 KiB blocks the parts of one chunk buffer their lines in, reused: a drained row group gives its blocks back
 * and the next lines go into them, instead of a fresh allocation per block. Fresh blocks made garbage outside V8's
 * heap at the rate JSON came in, which V8 collects only after tens of MiB of it, and the C allocator kept the high
 * water mark: Parquet's peak RSS (docs/PERFORMANCE.md, "Parquet memory").
 */
export class BlockPool {
  private readonly free: Buffer[] = [];
  /** Blocks made so far (a measure of the pool's reach, for tests). */
  made = 0;

  constructor(private readonly keep: number) {}

  take(): Buffer {
    const block = this.free.pop();
    if (block) return block;
    this.made += 1;
    return Buffer.allocUnsafeSlow(BLOCK_BYTES);
  }

  give(block: Buffer): void {
    if (block.length === BLOCK_BYTES && this.free.length < this.keep) this.free.push(block);
  }
}

/** A row group's typed columns and the writer of their Parquet pages: buffers that grow to a row group and are reused. */
interface RowGroupEncoder {
  readonly columns: RowGroupColumns;
  readonly pages: ParquetPageWriter;
}

/**
 * Shared by the Parquet parts of one chunk: when their buffered rows exceed it, the largest flushes early. It lends
 * the parts the encoders of their row groups, so that a chunk of many parts keeps the buffers of one row group, not
 * one per part; a part holds an encoder only while it encodes, and one that finds none free gets its own.
 */
export class RowGroupBudget {
  private readonly parts = new Set<ParquetPartEncoder>();
  private readonly idle: RowGroupEncoder[] = [];
  /** JSON bytes buffered by all parts, kept as they add and flush so that a record costs no scan of the parts. */
  total = 0;
  /** Enough free blocks to hold the budget again (its blocks in use are those the parts hold). */
  readonly blocks: BlockPool;

  constructor(readonly maxBytes: number) {
    this.blocks = new BlockPool(Math.ceil(maxBytes / BLOCK_BYTES) + 1);
  }

  join(part: ParquetPartEncoder): void {
    this.parts.add(part);
  }

  leave(part: ParquetPartEncoder): void {
    this.parts.delete(part);
  }

  takeEncoder(columns: readonly Column[], codec: ParquetOptions['codec']): RowGroupEncoder {
    const at = this.idle.findIndex(
      (encoder) => encoder.columns.columns === columns && encoder.pages.codec === codec,
    );
    if (at >= 0) return this.idle.splice(at, 1)[0];
    return {
      columns: new RowGroupColumns(columns, new ColumnPlaces(columns)),
      pages: new ParquetPageWriter(codec),
    };
  }

  giveEncoder(encoder: RowGroupEncoder): void {
    encoder.columns.reset();
    if (this.idle.length < IDLE_ENCODERS) this.idle.push(encoder);
  }

  async enforce(): Promise<void> {
    while (this.total > this.maxBytes) {
      let largest: ParquetPartEncoder | undefined;
      for (const part of this.parts)
        if (!largest || part.bufferedBytes > largest.bufferedBytes) largest = part;
      if (!largest || largest.bufferedBytes === 0) return;
      await largest.flushRowGroup();
    }
  }
}

/** Encoders a budget keeps between row groups: one per set of columns a chunk's parts write, usually one. */
const IDLE_ENCODERS = 2;

const WRITER_BYTES = 64 * 1024;

/**
 * The writer's byte sink: what a row group produced goes to `emit` (the part's upload). ByteWriter grows one buffer by
 * doubling and copying, to the size of a whole row group's output, then that buffer was copied twice more to send it;
 * here a full buffer is set aside as it is and writing goes on in a new one, so a row group's bytes are written once
 * into pieces of 64 KiB or more and sent without a copy. The writer only appends (every write goes through ensure()),
 * so the pieces are the file's bytes in order.
 */
class EmittingWriter extends ByteWriter {
  private pieces: Buffer[] = [];

  constructor(private readonly emit: (bytes: Buffer) => Promise<void>) {
    super(WRITER_BYTES);
  }

  override ensure(size: number): void {
    if (this.index + size <= this.buffer.byteLength) return;
    if (this.index > 0) this.pieces.push(Buffer.from(this.buffer, 0, this.index));
    this.buffer = new ArrayBuffer(Math.max(WRITER_BYTES, size));
    this.view = new DataView(this.buffer);
    this.index = 0;
  }

  /** Called by the writer after each row group, and at the end of the file. */
  flush(): Promise<void> {
    return this.send();
  }

  // ByteWriter declares finish(): void, but ParquetWriter.finish() returns (and we await) what it returns.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  override finish(): Promise<void> {
    return this.send();
  }

  private async send(): Promise<void> {
    const pieces = this.pieces;
    this.pieces = [];
    if (this.index > 0) {
      // The last piece keeps its buffer: a copy of what it holds goes, and the buffer is written on from its start.
      pieces.push(Buffer.from(Buffer.from(this.buffer, 0, this.index)));
      this.index = 0;
    }
    for (const piece of pieces) await this.emit(piece);
  }
}

/**
 * Records waiting for their row group, as the UTF-8 JSON lines they came in (a line held as a JavaScript string
 * would cost up to twice its bytes, and more per string). The groups of a block arrive as views of the block's
 * buffer, often a few hundred bytes each: they are copied into blocks of 64 KiB from the chunk's pool, so that
 * neither the block's buffer nor thousands of small allocations stay alive for them, and a drained block is used
 * again. A group larger than a block gets a buffer of its own (not pooled).
 */
class LineBuffer {
  count = 0;
  private blocks: Buffer[] = [];
  private current: Buffer | undefined;
  private used = 0;

  constructor(private readonly pool: BlockPool) {}

  push(lines: Buffer, records: number): void {
    if (!this.current || this.used + lines.length > this.current.length) {
      this.seal();
      this.current = lines.length <= BLOCK_BYTES ? this.pool.take() : Buffer.allocUnsafeSlow(lines.length);
    }
    this.used += lines.copy(this.current, this.used);
    this.count += records;
  }

  private seal(): void {
    if (this.current && this.used > 0) this.blocks.push(this.current.subarray(0, this.used));
    else if (this.current) this.pool.give(this.current);
    this.current = undefined;
    this.used = 0;
  }

  /**
   * Every line, in order, as where it lies (the same array each time, read before the next), emptying the buffer;
   * each block goes back to the pool once its lines are read. JSON text never holds a raw newline, so "\n" ends each
   * line.
   */
  *drain(): Generator<[block: Buffer, start: number, end: number]> {
    this.seal();
    const blocks = this.blocks;
    this.blocks = [];
    this.count = 0;
    // Lines are read where they lie, and every cell taken from a line is a copy (parquet-columns.ts), as are the
    // statistics kept per row group (each column's min and max): as slices they kept whole blocks alive, row group
    // after row group (a 256 MiB chunk held 140 MiB of them). So the block can be reused once its lines are read.
    const line: [Buffer, number, number] = [Buffer.alloc(0), 0, 0];
    for (const block of blocks) {
      line[0] = block;
      for (
        let start = 0, end = block.indexOf(0x0a);
        end !== -1;
        start = end + 1, end = block.indexOf(0x0a, start)
      ) {
        line[1] = start;
        line[2] = end;
        yield line;
      }
      this.pool.give(Buffer.from(block.buffer));
    }
  }

  /** Gives every block back without reading it (an aborted part). */
  clear(): void {
    this.seal();
    for (const block of this.blocks) this.pool.give(Buffer.from(block.buffer));
    this.blocks = [];
    this.count = 0;
  }
}

/** One Parquet object: add records (JSON lines), then finish. */
export class ParquetPartEncoder {
  bufferedBytes = 0;
  private readonly lines: LineBuffer;
  private readonly writer: EmittingWriter;
  private readonly parquet: ParquetWriter;
  private readonly footer: ParquetFooter;
  /** Rows a row group takes at most: the options' rows, and fewer on a wide run (MAX_ROW_GROUP_CELLS). */
  private readonly maxRows: number;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly columns: readonly Column[],
    emit: (bytes: Buffer) => Promise<void>,
    private readonly budget: RowGroupBudget,
    private readonly options: ParquetOptions = DEFAULT_PARQUET_OPTIONS,
  ) {
    this.writer = new EmittingWriter(emit);
    this.parquet = new ParquetWriter({
      writer: this.writer,
      schema: parquetSchema(columns),
      codec: options.codec,
      createdBy: 'gcs-export (hyparquet-writer)',
    });
    this.footer = new ParquetFooter(this.parquet);
    const cells = options.rowGroupCells ?? MAX_ROW_GROUP_CELLS;
    this.maxRows = Math.max(
      1,
      Math.min(options.rowGroupRows, Math.floor(cells / Math.max(1, columns.length))),
    );
    this.lines = new LineBuffer(budget.blocks);
    budget.join(this);
  }

  /** `lines`: whole JSON lines, each ending in "\n"; `records`: how many. */
  async add(lines: Buffer, records: number): Promise<void> {
    this.lines.push(lines, records);
    this.bufferedBytes += lines.length;
    this.budget.total += lines.length;
    if (this.bufferedBytes >= this.options.rowGroupBytes || this.lines.count >= this.maxRows)
      await this.flushRowGroup();
    else await this.budget.enforce();
  }

  /** Encodes the buffered records as one row group; serialised, as the budget may ask while a flush runs. */
  flushRowGroup(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeRowGroup());
    return this.flushing;
  }

  private async writeRowGroup(): Promise<void> {
    if (this.lines.count === 0) return;
    this.budget.total -= this.bufferedBytes;
    this.bufferedBytes = 0;
    // Encoding runs synchronously, from the lines to the row group's bytes; only sending them is awaited.
    const encoder = this.budget.takeEncoder(this.columns, this.options.codec);
    try {
      for (const [block, start, end] of this.lines.drain()) encoder.columns.add(block, start, end);
      encoder.pages.writeRowGroup(this.parquet, encoder.columns.values);
    } finally {
      this.budget.giveEncoder(encoder);
    }
    this.footer.seal();
    await this.writer.flush();
  }

  /** The last row group and the footer. */
  async finish(): Promise<void> {
    try {
      await this.flushRowGroup();
      this.footer.finish();
      await this.writer.finish();
    } finally {
      this.budget.leave(this);
    }
  }

  abort(): void {
    this.lines.clear();
    this.budget.total -= this.bufferedBytes;
    this.bufferedBytes = 0;
    this.budget.leave(this);
  }
}

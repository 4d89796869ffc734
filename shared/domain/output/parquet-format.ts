import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Column, ColumnType } from './column-types';
import { parquetCell, rowShaper } from './row-shape';

/**
 * Parquet through hyparquet-writer (chosen by measurement: docs/FORMATS.md). Typed columns from the run's schema:
 * int64 as INT64 from the literal's digits, timestamps as TIMESTAMP(MILLIS, UTC), nested values as JSON text,
 * SNAPPY pages. Records are buffered as their JSON text (compact, and its size is known) and turned into columns
 * one row group at a time, so a part holds at most one row group, and all parts of a chunk share one budget.
 * A row group closes at 8 MiB of JSON (about 25,000 demo events): larger groups would read a little faster, but
 * turning one into columns costs a few times its size in JavaScript values, and a worker stays under 256 MiB.
 */

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

export interface ParquetOptions {
  /** A row group closes at this many buffered JSON bytes, or rows, whichever comes first. */
  rowGroupBytes: number;
  rowGroupRows: number;
  codec: 'SNAPPY' | 'UNCOMPRESSED';
}

export const DEFAULT_PARQUET_OPTIONS: ParquetOptions = {
  rowGroupBytes: 8 * 1024 * 1024,
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

/** Shared by the Parquet parts of one chunk: when their buffered rows exceed it, the largest flushes early. */
export class RowGroupBudget {
  private readonly parts = new Set<ParquetPartEncoder>();
  /** JSON bytes buffered by all parts, kept as they add and flush so that a record costs no scan of the parts. */
  total = 0;

  constructor(readonly maxBytes: number) {}

  join(part: ParquetPartEncoder): void {
    this.parts.add(part);
  }

  leave(part: ParquetPartEncoder): void {
    this.parts.delete(part);
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

const WRITER_BYTES = 64 * 1024;

/** The writer's byte sink: what a row group produced goes to `emit` (the part's upload), then the buffer is reused. */
class EmittingWriter extends ByteWriter {
  constructor(private readonly emit: (bytes: Buffer) => Promise<void>) {
    super(WRITER_BYTES);
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
    if (this.index === 0) return;
    const bytes = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    // A row group grows the buffer to its encoded size; a part waiting for its next row group must not keep that
    // (forty parts would hold forty row groups' worth).
    if (this.buffer.byteLength > WRITER_BYTES) {
      this.buffer = new ArrayBuffer(WRITER_BYTES);
      this.view = new DataView(this.buffer);
    }
    await this.emit(bytes);
  }
}

/**
 * Records waiting for their row group, as the UTF-8 JSON lines they came in (a line held as a JavaScript string
 * would cost up to twice its bytes, and more per string). The groups of a block arrive as views of the block's
 * buffer, often a few hundred bytes each: they are copied into blocks of about 64 KiB, so that neither the block's
 * buffer nor thousands of small allocations stay alive for them.
 */
class LineBuffer {
  count = 0;
  private blocks: Buffer[] = [];
  private current: Buffer | undefined;
  private used = 0;

  push(lines: Buffer, records: number): void {
    if (!this.current || this.used + lines.length > this.current.length) {
      this.seal();
      this.current = Buffer.allocUnsafeSlow(Math.max(BLOCK_BYTES, lines.length));
    }
    this.used += lines.copy(this.current, this.used);
    this.count += records;
  }

  private seal(): void {
    if (this.current && this.used > 0) this.blocks.push(this.current.subarray(0, this.used));
    this.current = undefined;
    this.used = 0;
  }

  /** Every line, in order, emptying the buffer. JSON text never holds a raw newline, so "\n" ends each line. */
  *drain(): Generator<string> {
    this.seal();
    const blocks = this.blocks;
    this.blocks = [];
    this.count = 0;
    // Each line decoded on its own, not sliced from its block's text: a cell is a slice of its line, and the writer
    // keeps some cells (each column's min and max per row group), which would otherwise keep whole 64 KiB blocks
    // alive, row group after row group (a 256 MiB chunk held 140 MiB of them).
    for (const block of blocks)
      for (
        let start = 0, end = block.indexOf(0x0a);
        end !== -1;
        start = end + 1, end = block.indexOf(0x0a, start)
      )
        yield block.toString('utf8', start, end);
  }
}

const BLOCK_BYTES = 64 * 1024;

/** One Parquet object: add records (JSON lines), then finish. */
export class ParquetPartEncoder {
  bufferedBytes = 0;
  private lines = new LineBuffer();
  private readonly writer: EmittingWriter;
  private readonly parquet: ParquetWriter;
  private readonly shape: (json: string) => (string | bigint | number | boolean | null)[];
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
    this.shape = rowShaper(columns, parquetCell);
    budget.join(this);
  }

  /** `lines`: whole JSON lines, each ending in "\n"; `records`: how many. */
  async add(lines: Buffer, records: number): Promise<void> {
    this.lines.push(lines, records);
    this.bufferedBytes += lines.length;
    this.budget.total += lines.length;
    if (this.bufferedBytes >= this.options.rowGroupBytes || this.lines.count >= this.options.rowGroupRows)
      await this.flushRowGroup();
    else await this.budget.enforce();
  }

  /** Encodes the buffered records as one row group; serialised, as the budget may ask while a flush runs. */
  flushRowGroup(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeRowGroup());
    return this.flushing;
  }

  private async writeRowGroup(): Promise<void> {
    const rows = this.lines.count;
    if (rows === 0) return;
    this.budget.total -= this.bufferedBytes;
    this.bufferedBytes = 0;
    const width = this.columns.length;
    const data = this.columns.map(() => new Array<string | bigint | number | boolean | null>(rows));
    let r = 0;
    for (const line of this.lines.drain()) {
      const row = this.shape(line);
      for (let c = 0; c < width; c++) (data[c] as unknown[])[r] = row[c];
      r += 1;
    }
    const columnData = this.columns.map((column, c) => ({ name: column.name, data: data[c] }));
    await this.parquet.write({ columnData, rowGroupSize: rows });
  }

  /** The last row group and the footer. */
  async finish(): Promise<void> {
    try {
      await this.flushRowGroup();
      await this.parquet.finish();
    } finally {
      this.budget.leave(this);
    }
  }

  abort(): void {
    this.lines = new LineBuffer();
    this.budget.total -= this.bufferedBytes;
    this.bufferedBytes = 0;
    this.budget.leave(this);
  }
}

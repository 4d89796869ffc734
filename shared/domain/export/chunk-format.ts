import type { RunDoc } from '../documents';
import type { BlockOutput } from '../../ports/block-processor.port';
import { csvEncoder } from '../output/csv-format';
import type { ColumnarEncoder } from '../output/part-sink';
import { DEFAULT_PARQUET_OPTIONS, ParquetPartEncoder, RowGroupBudget } from '../output/parquet-format';
import type { RunSchema } from '../output/run-schema';

/**
 * What a run's format asks of the chunk writer, one implementation per format: what the block processor makes of
 * each selected record, how each part is compressed and typed, what opens it, and whether the format encodes the
 * records itself. The writer asks these, never which format it is.
 */
export interface ChunkFormat {
  /** What the block processor writes per record: JSON lines when undefined, else CSV rows on the run's columns. */
  blockOutput?: BlockOutput;
  /** Each part gzipped as a whole (JSON lines and CSV with `compression: gzip`). */
  gzip: boolean;
  contentType: string;
  /** Text that opens every part (CSV's header). */
  header?: string;
  /** A format that encodes records itself (Parquet): one encoder per part, sending the bytes it makes. */
  columnar?: (send: (bytes: Buffer) => Promise<void>) => ColumnarEncoder;
}

const GZIP = 'application/gzip';

export function jsonLinesFormat(gzip: boolean): ChunkFormat {
  return { gzip, contentType: gzip ? GZIP : 'application/x-ndjson' };
}

export function csvFormat(schema: RunSchema, gzip: boolean): ChunkFormat {
  return {
    blockOutput: { kind: 'csv', columns: schema.columns },
    gzip,
    contentType: gzip ? GZIP : 'text/csv',
    header: csvEncoder(schema.columns).header,
  };
}

/**
 * The JSON text all Parquet parts of one chunk may buffer before the largest writes its row group early: 8 MiB, with
 * row groups of at most 4 MiB, kept Parquet's peak RSS under 256 MiB at 256 MiB chunks (docs/PERFORMANCE.md,
 * "Parquet memory"); 16 and 8 MiB did not.
 */
const PARQUET_BUFFER_BYTES = 8 * 1024 * 1024;

/** Parquet compresses its pages itself (SNAPPY; `compression: none` leaves them uncompressed), never the file. */
export function parquetFormat(schema: RunSchema, compressed: boolean): ChunkFormat {
  const options = { ...DEFAULT_PARQUET_OPTIONS, codec: compressed ? 'SNAPPY' : 'UNCOMPRESSED' } as const;
  const budget = new RowGroupBudget(PARQUET_BUFFER_BYTES);
  return {
    gzip: false,
    contentType: 'application/vnd.apache.parquet',
    columnar: (send) => new ParquetPartEncoder(schema.columns, send, budget, options),
  };
}

/**
 * The format of a run's write pass. CSV and Parquet write only with the run's schema, decided by their first pass
 * (run-schema-phase.ts): asking without it is a defect of the caller.
 */
export function chunkFormat(request: RunDoc['request'], schema: RunSchema | undefined): ChunkFormat {
  const gzip = request.compression === 'gzip';
  if (request.format === 'jsonl') return jsonLinesFormat(gzip);
  if (!schema) throw new Error(`a ${request.format} chunk is written only with its run's schema`);
  return request.format === 'csv' ? csvFormat(schema, gzip) : parquetFormat(schema, gzip);
}

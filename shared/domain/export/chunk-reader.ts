import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { BucketStore } from '../../ports/bucket-store.port';
import type { QuarantineWriter } from '../../ports/quarantine.port';
import type { BlockOutput, BlockProcessor } from '../../ports/block-processor.port';
import type { ExportContext } from '../context';
import type { ChunkCounts, ChunkDoc, RunDoc, Slice } from '../documents';
import type { BlockItem, LongLine } from '../records/lines';
import { blockBuffers, splitBlocks } from '../records/lines';
import type { SpareBuffers } from '../records/spare-buffers';
import type { BlockResult, BlockTask } from '../records/blocks';
import { RAW_EXCERPT_CHARS, inlineBlockProcessor } from '../records/blocks';
import type { PartitionWriter } from '../output/partition-writer';
import type { ChunkObservation } from '../output/run-schema';
import { formatGcsUri } from '../source/gcs-uri';
import { classified, classifySourceFailure } from '../storage-failures';

/**
 * Reading one chunk: its slices opened (gunzipped where whole gzip objects), split into blocks of lines, each block
 * sent through the block processor with up to `concurrency` in flight, and the results settled in block order —
 * counts, quarantined lines with their place, output lines to the partition writer (or, in the first pass of a CSV
 * or Parquet chunk, column observations). A corrupt or truncated gzip object keeps what was readable and is
 * quarantined as one entry. The chunk writer (write-chunk.ts) decides what the reading is for and what follows.
 */

export interface ChunkJob {
  ctx: ExportContext;
  /** The request's kind, window and event filter, prepared once per chunk; each block adds its bytes. */
  task: Omit<BlockTask, 'bytes'>;
  run: RunDoc;
  chunk: ChunkDoc;
  quarantine: QuarantineWriter;
  /** The parts of the write pass; none in the first pass of a CSV or Parquet chunk, which only observes. */
  writer: PartitionWriter | undefined;
  /** The blocks' observations, in block order (first pass). */
  observations: ChunkObservation[];
  blocks: BlockProcessor;
  /** The blocks' buffers, reused from block to block. */
  blockBuffers: SpareBuffers;
  counts: ChunkCounts;
}

/** Where a slice's lines are: the slice, its URI, and how many of its lines came before the current block. */
interface SliceCursor {
  slice: Slice;
  uri: string;
  lines: number;
}

/** A block on its way through the processor, with the byte offset of its first line in the slice. */
interface InFlight {
  offset: number;
  bytes: number;
  result: Promise<BlockResult>;
  /** The block's own bytes, reused once its result is used (undefined for a long line). */
  block?: Buffer;
}

/**
 * Read-ahead: gunzip writes 256 KiB at a time (not 16 KiB) and keeps up to 1 MiB decompressed ahead of the record
 * work, taking compressed input up to 1 MiB ahead (several MiB of text). zlib inflates on libuv's threads, but each
 * piece it finishes waits for the main thread to hand it the next: with 16 KiB pieces and a 16 KiB buffer, it made
 * 16 KiB of progress per block the main thread processed, and the main thread waited for it (28 % of a run, issue
 * 19). 4 MiB decompressed ahead cost the same CPU time and kept pieces long enough to outlive young-generation
 * collections: garbage outside the heap that grew the peak with the chunk (195 against 149 MiB at 1 GiB,
 * docs/PERFORMANCE.md, "Buffers reused").
 */
const GUNZIP_OPTIONS = {
  chunkSize: 256 * 1024,
  readableHighWaterMark: 1024 * 1024,
  writableHighWaterMark: 1024 * 1024,
};

/**
 * Opens one slice as decoded bytes (a gzip object is always a whole slice, so it is decompressed as a whole) and
 * starts reading it at once: the chunk reader opens each slice while the one before is being read, so that its
 * first block is read and decompressed by the time it is needed. A chunk of 87 objects waited 0.7 s for first
 * blocks (docs/PERFORMANCE.md, "Compression overlapped"); where the source is Cloud Storage, this also hides each
 * object's request. The reading stops at the read-ahead's bounds until the slice's turn. An error before then is
 * kept by the stream, whose iterator throws it when the slice is read, never as an unhandled 'error' event.
 */
function openSlice(source: BucketStore, slice: Slice): Readable {
  const raw = source.read(slice.bucket, slice.name, { start: slice.start, end: slice.end });
  const ignore = (): void => undefined;
  if (!slice.gzip) {
    raw.on('error', ignore);
    // A read of nothing starts filling the stream's buffer.
    raw.read(0);
    return raw;
  }
  // pipeline() sets the object flowing into gunzip, passes a read error on to it, and destroys the read when gunzip
  // is destroyed (a failed chunk, or a slice given up), so that no request or file is left open.
  const gunzip = createGunzip(GUNZIP_OPTIONS);
  pipeline(raw, gunzip, ignore);
  gunzip.on('error', ignore);
  return gunzip;
}

function requestTask(
  request: RunDoc['request'],
  maxLineBytes: number,
  output: BlockOutput | undefined,
): ChunkJob['task'] {
  return {
    kind: request.kind,
    prefix: request.prefix,
    from: Date.parse(request.window.from),
    to: Date.parse(request.window.to),
    ...(request.events ? { events: request.events } : {}),
    maxLineBytes,
    ...(output ? { output } : {}),
  };
}

/** A line too long to be buffered is quarantined like any rejected line (as line 1 of a block of its own). */
function longLineResult(job: ChunkJob, item: LongLine): BlockResult {
  const reason = `line longer than ${job.ctx.settings.maxLineBytes} bytes`;
  const raw = item.head.toString('utf8').slice(0, RAW_EXCERPT_CHARS);
  return {
    lines: 1,
    sourceLines: 1,
    records: 0,
    filteredOut: 0,
    rejected: [{ line: 1, offset: 0, reason, raw }],
    groups: [],
  };
}

function dispatch(job: ChunkJob, item: BlockItem): InFlight {
  if (item.kind === 'long') {
    return { offset: item.offset, bytes: item.bytes, result: Promise.resolve(longLineResult(job, item)) };
  }
  const bytes = item.bytes.length;
  return {
    offset: item.offset,
    bytes,
    result: job.blocks.process({ ...job.task, bytes: item.bytes }),
    block: item.bytes,
  };
}

/** Uses one block's result, in block order: counts, quarantined lines with their place, output lines to parts. */
async function settle(job: ChunkJob, cursor: SliceCursor, block: InFlight): Promise<void> {
  const result = await block.result;
  const { counts } = job;
  const { slice } = cursor;
  counts.uncompressedBytes = (counts.uncompressedBytes ?? 0) + block.bytes;
  counts.sourceLines += result.sourceLines;
  counts.records += result.records;
  counts.filteredOut += result.filteredOut;
  counts.quarantined += result.rejected.length;
  for (const rejected of result.rejected) {
    await job.quarantine.add({
      source: cursor.uri,
      line: cursor.lines + rejected.line,
      lineBase: slice.start === 0 ? 'object' : 'range',
      ...(slice.gzip ? {} : { byteOffset: slice.start + block.offset + rejected.offset }),
      reason: rejected.reason,
      raw: rejected.raw,
    });
  }
  if (result.observation) job.observations.push(result.observation);
  for (const group of result.groups) {
    if (!job.writer) break;
    const key = {
      folder: group.folder,
      dt: group.dt,
      ...(group.eventName === undefined ? {} : { eventName: group.eventName }),
    };
    const { data } = group;
    await job.writer.write(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength), group.records);
  }
  // The writer copies what it keeps (PartitionWriter.write), so the output buffer can serve a later block; the
  // block's own bytes were read (or copied to a thread) before its result came.
  job.blocks.release(result);
  if (block.block) job.blockBuffers.give(block.block);
  cursor.lines += result.lines;
}

const ZLIB_DATA_ERRORS = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);
const isCorruptGzip = (error: unknown): boolean =>
  ZLIB_DATA_ERRORS.has(String((error as { code?: unknown } | null)?.code));

/** Streams a slice's blocks through the processor, keeping up to `concurrency` of them in flight. */
async function processSlice(
  job: ChunkJob,
  cursor: SliceCursor,
  opened: Readable,
  inFlight: InFlight[],
): Promise<void> {
  const blocks = splitBlocks(opened, job.ctx.settings.maxLineBytes, undefined, job.blockBuffers);
  for await (const item of blocks) {
    inFlight.push(dispatch(job, item));
    if (inFlight.length >= job.blocks.concurrency) await settle(job, cursor, inFlight.shift() as InFlight);
  }
  while (inFlight.length > 0) await settle(job, cursor, inFlight.shift() as InFlight);
}

export async function processSlices(job: ChunkJob): Promise<void> {
  const { slices } = job.chunk;
  const open = (index: number): Readable | undefined => {
    const slice = slices[index];
    return slice && openSlice(job.ctx.source, slice);
  };
  let next = open(0);
  try {
    for (const [index, slice] of slices.entries()) {
      const opened = next as Readable;
      // The next slice reads ahead while this one is read (see openSlice).
      next = open(index + 1);
      await processSliceOf(job, slice, opened);
    }
  } finally {
    // A chunk that fails leaves no slice reading.
    next?.destroy();
  }
}

async function processSliceOf(job: ChunkJob, slice: Slice, opened: Readable): Promise<void> {
  const cursor: SliceCursor = { slice, uri: formatGcsUri(slice), lines: 0 };
  job.counts.sourceBytes += slice.end - slice.start;
  const inFlight: InFlight[] = [];
  try {
    await processSlice(job, cursor, opened, inFlight);
  } catch (error) {
    if (!(slice.gzip && isCorruptGzip(error))) {
      for (const block of inFlight) block.result.catch(() => undefined);
      throw classified(error, (e) => classifySourceFailure(e, cursor.uri));
    }
    // A corrupt or truncated gzip object: keep what was readable, quarantine the rest as one entry, go on.
    while (inFlight.length > 0) await settle(job, cursor, inFlight.shift() as InFlight);
    job.counts.sourceLines += 1;
    job.counts.quarantined += 1;
    await job.quarantine.add({
      source: cursor.uri,
      line: cursor.lines + 1,
      lineBase: 'object',
      reason: `gzip data corrupt or truncated after line ${cursor.lines}: ${(error as Error).message}`,
      raw: '',
    });
  }
}

export function chunkJob(
  ctx: ExportContext,
  run: RunDoc,
  chunk: ChunkDoc,
  pass: {
    output: BlockOutput | undefined;
    writer: PartitionWriter | undefined;
    quarantine: QuarantineWriter;
  },
): ChunkJob {
  const blocks = ctx.blocks ?? inlineBlockProcessor();
  return {
    ctx,
    task: requestTask(run.request, ctx.settings.maxLineBytes, pass.output),
    run,
    chunk,
    quarantine: pass.quarantine,
    writer: pass.writer,
    observations: [],
    blocks,
    blockBuffers: blockBuffers(blocks.concurrency + 1),
    counts: {
      sourceLines: 0,
      records: 0,
      quarantined: 0,
      filteredOut: 0,
      sourceBytes: 0,
      uncompressedBytes: 0,
    },
  };
}

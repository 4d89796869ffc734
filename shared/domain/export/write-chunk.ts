import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { BucketStore } from '../../ports/bucket-store.port';
import type { QuarantineWriter } from '../../ports/quarantine.port';
import type { ExportContext } from '../context';
import type { ChunkCounts, ChunkDoc, PlanRef, RunDoc, Slice } from '../documents';
import { chunkDocSchema, parseDocument, paths } from '../documents';
import { inputError } from '../errors';
import { logEvent } from '../log-events';
import { runFields } from './run-events';
import { finaliseRun } from './finalise-run';
import { fileExtension, partObjectName } from '../output/layout';
import type { BlockItem, LongLine } from '../records/lines';
import { splitBlocks } from '../records/lines';
import type { BlockResult, BlockTask } from '../records/blocks';
import { RAW_EXCERPT_CHARS, inlineBlockProcessor } from '../records/blocks';
import type { BlockOutput, BlockProcessor } from '../../ports/block-processor.port';
import { PartSink } from '../output/part-sink';
import { PartitionWriter } from '../output/partition-writer';
import { getDestination } from '../destinations/manage-destinations';
import { claimChunk, completeChunk, loadRun, planOf } from './run-state';
import { formatGcsUri } from '../source/gcs-uri';
import type { ChunkObservation, RunSchema } from '../output/run-schema';
import { combineObservations } from '../output/run-schema';
import type { ChunkFormat } from './chunk-format';
import { chunkFormat } from './chunk-format';
import { needsRunSchema, runSchemaFor } from './run-schema-phase';
import {
  classified,
  classifyDestinationFailure,
  classifySourceFailure,
  mapFailure,
} from '../storage-failures';

export type ChunkOutcome =
  | { status: 'written'; files: number; counts: ChunkCounts; finalised: boolean }
  | { status: 'skipped'; why: string; finalised?: boolean };

interface ChunkJob {
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
}

/** Reads one slice as decoded bytes: a gzip object is always a whole slice, so it is decompressed as a whole. */
function openSlice(source: BucketStore, slice: Slice): Readable {
  const raw = source.read(slice.bucket, slice.name, { start: slice.start, end: slice.end });
  if (!slice.gzip) return raw;
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
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
  return { offset: item.offset, bytes, result: job.blocks.process({ ...job.task, bytes: item.bytes }) };
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
  cursor.lines += result.lines;
}

const ZLIB_DATA_ERRORS = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);
const isCorruptGzip = (error: unknown): boolean =>
  ZLIB_DATA_ERRORS.has(String((error as { code?: unknown } | null)?.code));

/** Streams a slice's blocks through the processor, keeping up to `concurrency` of them in flight. */
async function processSlice(job: ChunkJob, cursor: SliceCursor, inFlight: InFlight[]): Promise<void> {
  const blocks = splitBlocks(openSlice(job.ctx.source, cursor.slice), job.ctx.settings.maxLineBytes);
  for await (const item of blocks) {
    inFlight.push(dispatch(job, item));
    if (inFlight.length >= job.blocks.concurrency) await settle(job, cursor, inFlight.shift() as InFlight);
  }
  while (inFlight.length > 0) await settle(job, cursor, inFlight.shift() as InFlight);
}

async function processSlices(job: ChunkJob): Promise<void> {
  for (const slice of job.chunk.slices) {
    const cursor: SliceCursor = { slice, uri: formatGcsUri(slice), lines: 0 };
    job.counts.sourceBytes += slice.end - slice.start;
    const inFlight: InFlight[] = [];
    try {
      await processSlice(job, cursor, inFlight);
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
}

function partitionWriter(
  ctx: ExportContext,
  run: RunDoc,
  chunk: ChunkDoc,
  destination: BucketStore,
  bucket: string,
  format: ChunkFormat,
) {
  const { request } = run;
  const extension = fileExtension(request.format, request.compression);
  const classify = (e: Parameters<typeof classifyDestinationFailure>[0]) =>
    classifyDestinationFailure(e, bucket);
  return new PartitionWriter({
    chunk: chunk.index,
    maxPartBytes: ctx.settings.maxPartBytes,
    maxOpenParts: ctx.settings.maxOpenParts,
    openPart: async (key, part) => {
      const name = partObjectName(key.folder, run.runId, chunk.index, part, extension);
      // Only a retried chunk can find its own parts already written; the first attempt skips the lookup.
      const existing =
        chunk.attempts > 1 ? await mapFailure(destination.stat(bucket, name), classify) : undefined;
      return new PartSink({
        store: destination,
        bucket,
        name,
        contentType: format.contentType,
        gzip: format.gzip,
        classify,
        ...(existing ? { existing } : {}),
        ...(format.header === undefined ? {} : { header: format.header }),
        ...(format.columnar ? { columnar: format.columnar } : {}),
      });
    },
  });
}

/**
 * Writes one chunk: streams its slices as blocks of lines through the block processor (parse → window/filter →
 * sanitise → partition, on worker threads when there are several vCPUs), then gzip → upload.
 * Safe to run any number of times: output names and bytes are deterministic and every object is write-once.
 */
export async function writeChunk(ctx: ExportContext, runId: string, index: number): Promise<ChunkOutcome> {
  const run = await loadRun(ctx.state, runId);
  if (!run) throw inputError('runNotFound', `run ${runId} does not exist`);
  if (run.status !== 'running') return { status: 'skipped', why: `run is ${run.status}` };
  const plan = planOf(run);
  if (!plan) return { status: 'skipped', why: 'run has no plan' };
  let schema: RunSchema | undefined;
  if (needsRunSchema(run.request.format)) {
    const open = await loadOpenChunk(ctx, plan, index);
    if (!open) return { status: 'skipped', why: 'chunk is not open' };
    schema = await runSchemaFor(ctx, run, plan, open, () => scanChunk(ctx, run, open));
    if (!schema) return { status: 'skipped', why: 'waiting for the run schema' };
  }
  const claim = await claimChunk(ctx.state, plan, index, ctx.clock.now());
  // A delivery that finds its chunk done may be the redelivery of a worker whose finalising failed or died: it
  // finishes the run (idempotently), so that no lost message can leave a run with every chunk done unfinalised.
  if (!claim.claimed && claim.why === 'done')
    return { status: 'skipped', why: claim.why, finalised: await finaliseRun(ctx, runId) };
  if (!claim.claimed) return { status: 'skipped', why: claim.why };
  const chunk = claim.chunk;

  const destinationDoc = await getDestination(ctx.state, run.accountId, run.destinationId);
  const destination = await ctx.destinations.forDestination(destinationDoc);
  const format = chunkFormat(run.request, schema);
  const writer = partitionWriter(ctx, run, chunk, destination, destinationDoc.bucket, format);
  const job = chunkJob(ctx, run, chunk, {
    output: format.blockOutput,
    writer,
    quarantine: ctx.quarantine.open(runId, index),
  });
  let files;
  let quarantine;
  try {
    await processSlices(job);
    files = await writer.finish();
    quarantine = await job.quarantine.commit();
  } catch (error) {
    writer.abort(error instanceof Error ? error : new Error(String(error)));
    await job.quarantine.abort();
    throw error;
  }
  await completeChunk(ctx.state, plan, index, { files, counts: job.counts, quarantine }, ctx.clock.now());
  logEvent(ctx.logger, 'chunkWritten', {
    ...runFields(run),
    chunk: index,
    files: files.length,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    ...job.counts,
    attempt: chunk.attempts,
  });
  const finalised = await finaliseRun(ctx, runId);
  return { status: 'written', files: files.length, counts: job.counts, finalised };
}

function chunkJob(
  ctx: ExportContext,
  run: RunDoc,
  chunk: ChunkDoc,
  pass: {
    output: BlockOutput | undefined;
    writer: PartitionWriter | undefined;
    quarantine: QuarantineWriter;
  },
): ChunkJob {
  return {
    ctx,
    task: requestTask(run.request, ctx.settings.maxLineBytes, pass.output),
    run,
    chunk,
    quarantine: pass.quarantine,
    writer: pass.writer,
    observations: [],
    blocks: ctx.blocks ?? inlineBlockProcessor,
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

/** The chunk's document unless it is finished or waiting for the customer (the first pass does not claim it). */
async function loadOpenChunk(
  ctx: ExportContext,
  plan: PlanRef,
  index: number,
): Promise<ChunkDoc | undefined> {
  const data = await ctx.state.get(paths.chunk(plan, index));
  if (data === undefined) return undefined;
  const chunk = parseDocument(chunkDocSchema, paths.chunk(plan, index), data);
  return chunk.status === 'pending' || chunk.status === 'running' ? chunk : undefined;
}

/** Lines rejected in the first pass are quarantined, with their place, by the write pass. */
const UNRECORDED: QuarantineWriter = {
  add: () => Promise.resolve(),
  commit: () => Promise.resolve(undefined),
  abort: () => Promise.resolve(),
};

/** The first pass of a CSV or Parquet chunk: the same reading, parsing and selection, into column observations. */
async function scanChunk(ctx: ExportContext, run: RunDoc, chunk: ChunkDoc): Promise<ChunkObservation> {
  const job = chunkJob(ctx, run, chunk, {
    output: { kind: 'observe' },
    writer: undefined,
    quarantine: UNRECORDED,
  });
  await processSlices(job);
  return combineObservations(job.observations);
}

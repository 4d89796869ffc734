import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { BucketStore } from '../../ports/bucket-store.port';
import type { QuarantineWriter } from '../../ports/quarantine.port';
import type { ExportContext } from '../context';
import type { ChunkCounts, ChunkDoc, PlanRef, RunDoc, Slice } from '../documents';
import { inputError } from '../errors';
import { finaliseRun } from './finalise-run';
import { fileExtension, partObjectName, partitionFor } from '../output/layout';
import type { SourceLine } from '../records/lines';
import { splitLines } from '../records/lines';
import { PartSink } from '../output/part-sink';
import { PartitionWriter } from '../output/partition-writer';
import { getDestination } from '../destinations/manage-destinations';
import { parseSourceLine } from '../records/parse-record';
import { claimChunk, completeChunk, loadRun, planOf } from './run-state';
import { formatGcsUri } from '../source/gcs-uri';
import type { PartitionKey } from '../output/layout';
import type { ChunkObservation, RunSchema } from '../output/run-schema';
import { MAX_COLUMNS } from '../output/run-schema';
import { SchemaObserver } from '../output/record-fields';
import { csvEncoder } from '../output/csv-format';
import { DEFAULT_PARQUET_OPTIONS, ParquetPartEncoder, RowGroupBudget } from '../output/parquet-format';
import { chunkDocSchema, parseDocument, paths } from '../documents';
import { needsRunSchema, runSchemaFor } from './run-schema-phase';
import {
  classified,
  classifyDestinationFailure,
  classifySourceFailure,
  mapFailure,
} from '../storage-failures';

export type ChunkOutcome =
  | { status: 'written'; files: number; counts: ChunkCounts; finalised: boolean }
  | { status: 'skipped'; why: string };

const RAW_EXCERPT_BYTES = 4096;
const CONTENT_TYPES = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
};

interface ChunkJob {
  ctx: ExportContext;
  /** The request's window and event filter, prepared once per chunk. */
  select: (time: Date, eventName: string | undefined) => boolean;
  run: RunDoc;
  chunk: ChunkDoc;
  quarantine: QuarantineWriter;
  /** Where each selected record goes: its partition's part (write pass), or the schema observer (scan pass). */
  emit: (key: PartitionKey, json: string) => Promise<void> | void;
  counts: ChunkCounts;
}

/** Reads one slice as decoded bytes: a gzip object is always a whole slice, so it is decompressed as a whole. */
function openSlice(source: BucketStore, slice: Slice): Readable {
  const raw = source.read(slice.bucket, slice.name, { start: slice.start, end: slice.end });
  if (!slice.gzip) return raw;
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

async function processLine(job: ChunkJob, slice: Slice, uri: string, line: SourceLine): Promise<void> {
  const text = line.text.toString('utf8');
  // Blank (or white-space only) lines are not records; they are neither exported nor quarantined. The search for
  // a non-space character stops at once on a record, where trim() would copy every line.
  if (!line.tooLong && !/\S/.test(text)) return;
  job.counts.sourceLines += 1;
  const { request } = job.run;
  const parsed = line.tooLong
    ? ({ ok: false, reason: `line longer than ${job.ctx.settings.maxLineBytes} bytes` } as const)
    : parseSourceLine(request.kind, text);
  if (!parsed.ok) {
    job.counts.quarantined += 1;
    await job.quarantine.add({
      source: uri,
      line: line.number,
      lineBase: slice.start === 0 ? 'object' : 'range',
      ...(slice.gzip ? {} : { byteOffset: slice.start + line.offset }),
      reason: parsed.reason,
      raw: text.slice(0, RAW_EXCERPT_BYTES),
    });
    return;
  }
  const { record, time, eventName } = parsed.value;
  if (!job.select(time, eventName)) {
    job.counts.filteredOut += 1;
    return;
  }
  job.counts.records += 1;
  await job.emit(partitionFor(request.kind, request.prefix, time, eventName), JSON.stringify(record));
}

/** Window [from, to) and the optional event filter (raw event names). */
function recordSelector(request: RunDoc['request']): ChunkJob['select'] {
  const from = Date.parse(request.window.from);
  const to = Date.parse(request.window.to);
  const events = request.events ? new Set(request.events) : undefined;
  return (time, eventName) =>
    time.getTime() >= from && time.getTime() < to && (!events || events.has(eventName ?? ''));
}

const ZLIB_DATA_ERRORS = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);
const isCorruptGzip = (error: unknown): boolean =>
  ZLIB_DATA_ERRORS.has(String((error as { code?: unknown } | null)?.code));

async function processSlices(job: ChunkJob): Promise<void> {
  for (const slice of job.chunk.slices) {
    const uri = formatGcsUri(slice);
    job.counts.sourceBytes += slice.end - slice.start;
    let lastLine = 0;
    try {
      for await (const line of splitLines(openSlice(job.ctx.source, slice), job.ctx.settings.maxLineBytes)) {
        lastLine = line.number;
        await processLine(job, slice, uri, line);
      }
    } catch (error) {
      if (!(slice.gzip && isCorruptGzip(error)))
        throw classified(error, (e) => classifySourceFailure(e, uri));
      // A corrupt or truncated gzip object: keep what was readable, quarantine the rest as one entry, go on.
      job.counts.sourceLines += 1;
      job.counts.quarantined += 1;
      await job.quarantine.add({
        source: uri,
        line: lastLine + 1,
        lineBase: 'object',
        reason: `gzip data corrupt or truncated after line ${lastLine}: ${(error as Error).message}`,
        raw: '',
      });
    }
  }
}

/** What a part of the run's format needs besides its bytes: the CSV header, the Parquet encoder. */
function formatOf(run: RunDoc, schema: RunSchema | undefined) {
  const { format, compression } = run.request;
  if (format === 'jsonl' || !schema)
    return { encode: (json: string) => `${json}\n`, gzip: compression === 'gzip' };
  if (format === 'csv') {
    const csv = csvEncoder(schema.columns);
    return { encode: csv.row, header: csv.header, gzip: compression === 'gzip' };
  }
  // Parquet compresses its pages itself (SNAPPY); `compression: none` leaves them uncompressed.
  const options = {
    ...DEFAULT_PARQUET_OPTIONS,
    codec: compression === 'gzip' ? 'SNAPPY' : 'UNCOMPRESSED',
  } as const;
  const budget = new RowGroupBudget(PARQUET_BUFFER_BYTES);
  return {
    encode: (json: string) => json,
    gzip: false,
    columnar: (send: (bytes: Buffer) => Promise<void>) =>
      new ParquetPartEncoder(schema.columns, send, budget, options),
  };
}

/** The JSON text all Parquet parts of one chunk may buffer before the largest writes its row group early. */
const PARQUET_BUFFER_BYTES = 32 * 1024 * 1024;

function partitionWriter(
  ctx: ExportContext,
  run: RunDoc,
  chunk: ChunkDoc,
  destination: BucketStore,
  bucket: string,
  format: ReturnType<typeof formatOf>,
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
        contentType: format.gzip ? 'application/gzip' : CONTENT_TYPES[request.format],
        gzip: format.gzip,
        classify,
        ...(existing ? { existing } : {}),
        ...('header' in format ? { header: format.header } : {}),
        ...('columnar' in format ? { columnar: format.columnar } : {}),
      });
    },
  });
}

/**
 * Writes one chunk: streams its slices through parse → window/filter → sanitise → partition → gzip → upload.
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
    const pending = await loadOpenChunk(ctx, plan, index);
    if (!pending) return { status: 'skipped', why: 'chunk is not open' };
    schema = await runSchemaFor(ctx, run, plan, pending, () => scanChunk(ctx, run, pending));
    if (!schema) return { status: 'skipped', why: 'waiting for the run schema' };
  }
  const claim = await claimChunk(ctx.state, plan, index, ctx.clock.now());
  if (!claim.claimed) return { status: 'skipped', why: claim.why };
  const chunk = claim.chunk;

  const destinationDoc = await getDestination(ctx.state, run.accountId, run.destinationId);
  const destination = await ctx.destinations.forDestination(destinationDoc);
  const format = formatOf(run, schema);
  const writer = partitionWriter(ctx, run, chunk, destination, destinationDoc.bucket, format);
  const job: ChunkJob = {
    ctx,
    select: recordSelector(run.request),
    run,
    chunk,
    quarantine: ctx.quarantine.open(runId, index),
    emit: (key, json) => writer.write(key, format.encode(json)),
    counts: { sourceLines: 0, records: 0, quarantined: 0, filteredOut: 0, sourceBytes: 0 },
  };
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
  ctx.logger.info('chunk written', {
    runId,
    chunk: index,
    files: files.length,
    ...job.counts,
    attempt: chunk.attempts,
  });
  const finalised = await finaliseRun(ctx, runId);
  return { status: 'written', files: files.length, counts: job.counts, finalised };
}

/** The chunk's document unless it is finished or waiting for the customer (the scan pass does not claim it). */
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

/** Lines quarantined by the scan pass are quarantined again, with their place, by the write pass. */
const UNRECORDED: QuarantineWriter = {
  add: () => Promise.resolve(),
  commit: () => Promise.resolve(undefined),
  abort: () => Promise.resolve(),
};

/** The first pass of a CSV or Parquet chunk: the same reading, parsing and selection, into a schema observer. */
async function scanChunk(ctx: ExportContext, run: RunDoc, chunk: ChunkDoc): Promise<ChunkObservation> {
  const observer = new SchemaObserver(MAX_COLUMNS);
  await processSlices({
    ctx,
    select: recordSelector(run.request),
    run,
    chunk,
    quarantine: UNRECORDED,
    emit: (_key, json) => observer.observe(json),
    counts: { sourceLines: 0, records: 0, quarantined: 0, filteredOut: 0, sourceBytes: 0 },
  });
  return { records: observer.records, columns: observer.columns(), overflow: observer.overflow };
}

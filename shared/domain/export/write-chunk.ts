import type { BucketStore } from '../../ports/bucket-store.port';
import type { QuarantineWriter } from '../../ports/quarantine.port';
import type { ExportContext } from '../context';
import type { ChunkCounts, ChunkDoc, PlanRef, RunDoc } from '../documents';
import { chunkDocSchema, parseDocument, paths } from '../documents';
import { inputError } from '../errors';
import { logEvent } from '../log-events';
import { runFields } from './run-events';
import { finaliseRun } from './finalise-run';
import { fileExtension, partObjectName } from '../output/layout';
import { PartSink } from '../output/part-sink';
import { CompressorQueue } from '../output/compressor-queue';
import { PartitionWriter } from '../output/partition-writer';
import { getDestination } from '../destinations/manage-destinations';
import { claimChunk, completeChunk, loadRun, planOf } from './run-state';
import type { ChunkObservation, RunSchema } from '../output/run-schema';
import { combineObservations } from '../output/run-schema';
import type { ChunkFormat } from './chunk-format';
import { chunkFormat } from './chunk-format';
import { chunkJob, processSlices } from './chunk-reader';
import { needsRunSchema, runSchemaFor } from './run-schema-phase';
import { classifyDestinationFailure, mapFailure } from '../storage-failures';

export type ChunkOutcome =
  | { status: 'written'; files: number; counts: ChunkCounts; finalised: boolean }
  | { status: 'skipped'; why: string; finalised?: boolean };

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
  // One queue for all the chunk's parts: the batches waiting for compressors are bounded per chunk, not per part.
  const queue = new CompressorQueue();
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
        queue,
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
 * Finalising starts from one place, after the chunk is done: written now, or found done by a redelivery.
 */
export async function writeChunk(ctx: ExportContext, runId: string, index: number): Promise<ChunkOutcome> {
  const outcome = await writeChunkOnce(ctx, runId, index);
  // A delivery that finds its chunk done may be the redelivery of a worker whose finalising failed or died: it
  // finishes the run (idempotently), so that no lost message can leave a run with every chunk done unfinalised.
  if (outcome.status === 'skipped' && outcome.why !== 'done') return outcome;
  return { ...outcome, finalised: await finaliseRun(ctx, runId) };
}

async function writeChunkOnce(
  ctx: ExportContext,
  runId: string,
  index: number,
): Promise<{ status: 'written'; files: number; counts: ChunkCounts } | { status: 'skipped'; why: string }> {
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
  return { status: 'written', files: files.length, counts: job.counts };
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

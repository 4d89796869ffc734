import type { StateStore } from '../ports/state-store';
import type { ChunkCounts, ChunkDoc, ExportDoc, FailureRecord, FileEntry, RunDoc } from './documents';
import { chunkDocSchema, exportDocSchema, parseDocument, paths, runDocSchema } from './documents';
import type { ExportError } from './errors';
import { exportDocId } from './ids';

/** State transitions of runs, chunks and exports. Each is one transaction, so a redelivery sees a consistent state. */

export async function loadRun(state: StateStore, runId: string): Promise<RunDoc | undefined> {
  const data = await state.get(paths.run(runId));
  return data === undefined ? undefined : parseDocument(runDocSchema, paths.run(runId), data);
}

export async function loadChunks(state: StateStore, runId: string): Promise<ChunkDoc[]> {
  const docs = await state.list(paths.chunks(runId));
  return docs.map((doc) => parseDocument(chunkDocSchema, `${paths.chunks(runId)}/${doc.id}`, doc.data));
}

export function failureRecord(error: ExportError, at: Date): FailureRecord {
  const status = typeof error.details.status === 'number' ? error.details.status : undefined;
  return {
    kind: error.kind,
    code: error.code,
    message: error.message,
    at: at.toISOString(),
    ...(status ? { status } : {}),
  };
}

export type ChunkClaim =
  | { claimed: true; chunk: ChunkDoc }
  | { claimed: false; why: 'done' | 'inProgress' | 'blocked' | 'failed' | 'missing' };

/** Takes a chunk for this attempt unless it is finished, blocked, or leased to a live worker. */
export function claimChunk(
  state: StateStore,
  runId: string,
  index: number,
  now: Date,
  leaseSeconds: number,
): Promise<ChunkClaim> {
  const path = paths.chunk(runId, index);
  return state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return { claimed: false, why: 'missing' } as const;
    const chunk = parseDocument(chunkDocSchema, path, data);
    switch (chunk.status) {
      case 'done':
      case 'blocked':
      case 'failed':
        return { claimed: false, why: chunk.status } as const;
      case 'running':
        if (chunk.leaseUntil !== undefined && Date.parse(chunk.leaseUntil) > now.getTime()) {
          return { claimed: false, why: 'inProgress' } as const;
        }
        break;
      case 'pending':
        break;
    }
    const claimed: ChunkDoc = {
      ...chunk,
      status: 'running',
      attempts: chunk.attempts + 1,
      leaseUntil: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      updatedAt: now.toISOString(),
    };
    tx.set(path, claimed);
    return { claimed: true, chunk: claimed } as const;
  });
}

export async function completeChunk(
  state: StateStore,
  runId: string,
  index: number,
  result: { files: FileEntry[]; counts: ChunkCounts; quarantine?: string | undefined },
  now: Date,
): Promise<void> {
  const patch: Record<string, unknown> = {
    status: 'done',
    files: result.files,
    counts: result.counts,
    leaseUntil: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  if (result.quarantine !== undefined) patch.quarantine = result.quarantine;
  await state.update(paths.chunk(runId, index), patch);
}

/** A transient failure hands the chunk back so that the redelivery can claim it at once. */
export async function releaseChunk(
  state: StateStore,
  runId: string,
  index: number,
  now: Date,
): Promise<void> {
  await state.update(paths.chunk(runId, index), { status: 'pending', updatedAt: now.toISOString() });
}

/** A destination problem: the chunk waits for the customer, the run is blocked, the export is failing. */
export function blockChunk(
  state: StateStore,
  run: RunDoc,
  index: number,
  error: ExportError,
  now: Date,
): Promise<void> {
  const failure = failureRecord(error, now);
  const exportPath = paths.export(exportDocId(run.accountId, run.exportId));
  return state.transaction(async (tx) => {
    const runData = await tx.get(paths.run(run.runId));
    const exportData = await tx.get(exportPath);
    tx.update(paths.chunk(run.runId, index), { status: 'blocked', failure, updatedAt: now.toISOString() });
    const current =
      runData === undefined ? undefined : parseDocument(runDocSchema, paths.run(run.runId), runData);
    if (current?.status === 'running') {
      tx.update(paths.run(run.runId), { status: 'blocked', failure, updatedAt: now.toISOString() });
    }
    if (exportData !== undefined) {
      const doc = parseDocument(exportDocSchema, exportPath, exportData);
      tx.update(exportPath, markFailing(doc, failure, now));
    }
  });
}

function markFailing(doc: ExportDoc, failure: FailureRecord, now: Date): Partial<ExportDoc> {
  return {
    health: {
      state: 'failing',
      // The first failure starts the three-day clock; later failures must not reset it.
      firstFailureAt: doc.health.state === 'failing' ? (doc.health.firstFailureAt ?? failure.at) : failure.at,
      lastFailureAt: failure.at,
      lastError: failure,
    },
    updatedAt: now.toISOString(),
  };
}

/** Integrity, input or exhausted deliveries: the run cannot succeed any more. */
export function failRun(
  state: StateStore,
  runId: string,
  error: ExportError,
  now: Date,
  chunkIndex?: number,
): Promise<void> {
  const failure = failureRecord(error, now);
  return state.transaction(async (tx) => {
    const runData = await tx.get(paths.run(runId));
    const chunkData = chunkIndex === undefined ? undefined : await tx.get(paths.chunk(runId, chunkIndex));
    if (chunkIndex !== undefined && chunkData !== undefined) {
      tx.update(paths.chunk(runId, chunkIndex), { status: 'failed', failure, updatedAt: now.toISOString() });
    }
    if (runData === undefined) return;
    const run = parseDocument(runDocSchema, paths.run(runId), runData);
    if (run.status === 'succeeded' || run.status === 'failed') return;
    tx.update(paths.run(runId), {
      status: 'failed',
      failure,
      completedAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
  });
}

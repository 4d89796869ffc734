import type { StateStore, StateTransaction } from '../../ports/state-store.port';
import type {
  ChunkCounts,
  ChunkDoc,
  ChunkOutput,
  ExportDoc,
  FailureRecord,
  FileEntry,
  FilePage,
  PlanRef,
  RunDoc,
} from '../documents';
import {
  chunkDocSchema,
  exportDocSchema,
  filePageSchema,
  parseDocument,
  paths,
  runDocSchema,
} from '../documents';
import type { ExportError } from '../errors';
import { exportDocId, legacyRunIdFor, runIdFor } from '../ids';
import type { ChunkEvent } from '../lifecycle/transitions';
import { exportStateOf } from '../lifecycle/transitions';
import type { ChunkPatch } from '../lifecycle/write';
import { transitionChunk, transitionExport, transitionRun } from '../lifecycle/write';

/** State transitions of runs, chunks and exports. Each is one transaction, so a redelivery sees a consistent state. */

export async function loadRun(state: StateStore, runId: string): Promise<RunDoc | undefined> {
  const data = await state.get(paths.run(runId));
  return data === undefined ? undefined : parseDocument(runDocSchema, paths.run(runId), data);
}

/**
 * The run a request created: under its current id, or under the 12-digit id of a run created before ids grew (a
 * request redelivered across that upgrade must find its run, not start a second export). A legacy id could belong
 * to another account's request, hence the comparison.
 */
export async function findRunOfRequest(
  read: (path: string) => Promise<unknown>,
  accountId: string,
  requestId: string,
): Promise<RunDoc | undefined> {
  for (const runId of [runIdFor(accountId, requestId), legacyRunIdFor(accountId, requestId)]) {
    const data = await read(paths.run(runId));
    if (data === undefined) continue;
    const run = parseDocument(runDocSchema, paths.run(runId), data);
    if (
      run.runId === runId &&
      (runId.length === 32 || (run.accountId === accountId && run.requestId === requestId))
    )
      return run;
  }
  return undefined;
}

/** The run with its committed plan, or undefined while it is still being planned. */
export function planOf(run: RunDoc): PlanRef | undefined {
  return run.planId === undefined ? undefined : { runId: run.runId, planId: run.planId };
}

export async function loadChunks(state: StateStore, plan: PlanRef): Promise<ChunkDoc[]> {
  const docs = await state.list(paths.chunks(plan));
  return docs.map((doc) => parseDocument(chunkDocSchema, `${paths.chunks(plan)}/${doc.id}`, doc.data));
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
  { claimed: true; chunk: ChunkDoc } | { claimed: false; why: 'done' | 'blocked' | 'failed' | 'missing' };

/**
 * Takes a chunk for this delivery unless it is finished or waiting for the customer. A chunk another delivery is
 * working on is taken too: the work is idempotent, and skipping it would lose the chunk if that worker had died.
 */
export function claimChunk(state: StateStore, plan: PlanRef, index: number, now: Date): Promise<ChunkClaim> {
  const path = paths.chunk(plan, index);
  return state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return { claimed: false, why: 'missing' } as const;
    const chunk = parseDocument(chunkDocSchema, path, data);
    const claimed = transitionChunk(tx, plan, chunk, 'claimed', {
      attempts: chunk.attempts + 1,
      updatedAt: now.toISOString(),
    });
    if (claimed) return { claimed: true, chunk: claimed } as const;
    return {
      claimed: false,
      why: chunk.status === 'pending' || chunk.status === 'running' ? 'missing' : chunk.status,
    } as const;
  });
}

/** UTF-8 bytes of file entries per page (as JSON): far below Firestore's 1 MiB per document. */
export const FILE_PAGE_BYTES = 256 * 1024;

/** Cuts a chunk's file list into pages of at most FILE_PAGE_BYTES (a page holds at least one entry). */
export function filePages(index: number, files: readonly FileEntry[]): FilePage[] {
  const pages: FilePage[] = [];
  let current: FilePage | undefined;
  let bytes = 0;
  for (const file of files) {
    const size = Buffer.byteLength(JSON.stringify(file));
    if (!current || bytes + size > FILE_PAGE_BYTES) {
      current = { chunk: index, page: pages.length, files: [] };
      pages.push(current);
      bytes = 0;
    }
    current.files.push(file);
    bytes += size;
  }
  return pages;
}

/**
 * Records a written chunk: its file list as pages first, then the chunk as done with counts only. The pages of a
 * retried chunk are identical (names and bytes are deterministic), so creating only the missing ones is enough.
 */
export async function completeChunk(
  state: StateStore,
  plan: PlanRef,
  index: number,
  result: { files: FileEntry[]; counts: ChunkCounts; quarantine?: string | undefined },
  now: Date,
): Promise<void> {
  const pages = filePages(index, result.files);
  await state.createAll(pages.map((page) => ({ path: paths.filePage(plan, index, page.page), data: page })));
  const output: ChunkOutput = {
    files: result.files.length,
    bytes: result.files.reduce((sum, file) => sum + file.bytes, 0),
    pages: pages.length,
  };
  await state.transaction(async (tx) => {
    const path = paths.chunk(plan, index);
    const data = await tx.get(path);
    if (data === undefined) return;
    transitionChunk(tx, plan, parseDocument(chunkDocSchema, path, data), 'completed', {
      output,
      counts: result.counts,
      ...(result.quarantine === undefined ? {} : { quarantine: result.quarantine }),
      failure: undefined,
      updatedAt: now.toISOString(),
    });
  });
}

/** Every file of a plan's done chunks: the file pages, and the lists that earlier versions kept in chunks. */
export async function loadFiles(
  state: StateStore,
  plan: PlanRef,
  chunks: readonly ChunkDoc[],
): Promise<FileEntry[]> {
  const pages = await state.list(paths.files(plan));
  const files = pages.flatMap(
    (doc) => parseDocument(filePageSchema, `${paths.files(plan)}/${doc.id}`, doc.data).files,
  );
  for (const chunk of chunks) if (chunk.files) files.push(...chunk.files);
  return files;
}

/** Applies a chunk transition if the chunk exists and the table allows it from its current state. */
async function transitionChunkAt(
  tx: StateTransaction,
  plan: PlanRef,
  index: number,
  event: ChunkEvent,
  patch: ChunkPatch,
): Promise<void> {
  const path = paths.chunk(plan, index);
  const data = await tx.get(path);
  if (data !== undefined) transitionChunk(tx, plan, parseDocument(chunkDocSchema, path, data), event, patch);
}

/** A transient failure hands the chunk back; the redelivery claims it again. */
export function releaseChunk(state: StateStore, plan: PlanRef, index: number, now: Date): Promise<void> {
  return state.transaction((tx) =>
    transitionChunkAt(tx, plan, index, 'released', { updatedAt: now.toISOString() }),
  );
}

export interface BlockOutcome {
  /** This failure opened the export's failure episode (the exportFailing event). */
  nowFailing: boolean;
  /**
   * The run's destination is no longer the export's: the export moved, so the blocked run is planned again for the
   * destination in use (moveBlockedRuns) instead of failing the export.
   */
  stale: boolean;
}

/**
 * A destination problem: the chunk (if the failure was a chunk's) waits for the customer, the run is blocked, and the
 * export is failing — unless the export has moved to another destination since the run was planned, in which case the
 * export's health is not this destination's business (the caller moves the run).
 */
export function blockChunk(
  state: StateStore,
  run: RunDoc,
  index: number | undefined,
  error: ExportError,
  now: Date,
): Promise<BlockOutcome> {
  const failure = failureRecord(error, now);
  const exportPath = paths.export(exportDocId(run.accountId, run.exportId));
  const updatedAt = now.toISOString();
  return state.transaction(async (tx) => {
    const runData = await tx.get(paths.run(run.runId));
    const exportData = await tx.get(exportPath);
    const current =
      runData === undefined ? undefined : parseDocument(runDocSchema, paths.run(run.runId), runData);
    const plan = current && planOf(current);
    // A failure of an earlier plan (the run moved since) is not this run's any more.
    if (plan && index !== undefined && plan.planId === planOf(run)?.planId)
      await transitionChunkAt(tx, plan, index, 'blocked', { failure, updatedAt });
    if (current) transitionRun(tx, current, 'blocked', { failure, updatedAt });
    if (exportData === undefined) return { nowFailing: false, stale: false };
    const doc = parseDocument(exportDocSchema, exportPath, exportData);
    if (current && current.destinationId !== doc.destinationId) return { nowFailing: false, stale: true };
    return { nowFailing: markFailing(tx, exportPath, doc, failure, now), stale: false };
  });
}

/**
 * The last recovery followed notice 3, which says the export was stopped: it went out (or may have) while the
 * customer's resume won over the stop. The recovery notice then says "restarted and works again". For the customer
 * the export was stopped and restarted, and a restarted export starts afresh. Continuing the episode would send
 * notice 3 again under the same id, and after that stop and a restart no recovery notice could follow (one per
 * episode and notice). A recovery notice refused with the notice it followed is not due and does not count.
 */
const toldStopped = (doc: ExportDoc): boolean => {
  const r = doc.recoveryNotice;
  return (
    r?.episodeStart === doc.health.firstFailureAt && r?.afterNotice === 3 && (r.due || r.followed.includes(3))
  );
};

/**
 * The export's failure episode, in the caller's transaction. A failure while failing, or soon after a resume (the fix
 * did not hold), continues it with its first-failure time and the notices already sent, so that the three-day
 * escalation cannot be reset by a resume that fails again, unless that resume followed notice 3 (`toldStopped`).
 * Any other failure opens a new episode. Every failure counts in `health.failures`, so that a resume can tell
 * whether anything blocked while it worked. Returns true when this failure opened the episode.
 */
export function markFailing(
  tx: StateTransaction,
  exportPath: string,
  doc: ExportDoc,
  failure: FailureRecord,
  now: Date,
): boolean {
  const { health } = doc;
  const failures = (health.failures ?? 0) + 1;
  const updatedAt = now.toISOString();
  const noted = { ...health, lastFailureAt: failure.at, lastError: failure, failures };
  switch (exportStateOf(doc)) {
    case 'stopped':
      transitionExport(tx, exportPath, doc, 'whileStopped', { health: noted, updatedAt });
      return false;
    case 'failing':
      transitionExport(tx, exportPath, doc, 'stillFailing', { health: noted, updatedAt });
      return false;
    case 'healthy':
      break;
  }
  const relapse = health.relapseUntil !== undefined && Date.parse(health.relapseUntil) > now.getTime();
  if (relapse && health.firstFailureAt !== undefined && !toldStopped(doc)) {
    transitionExport(tx, exportPath, doc, 'failed', {
      health: { ...noted, relapseUntil: undefined },
      updatedAt,
    });
    return true;
  }
  transitionExport(tx, exportPath, doc, 'failed', {
    health: { firstFailureAt: failure.at, lastFailureAt: failure.at, lastError: failure, failures },
    noticesSent: [],
    noticesMaybeSent: [],
    noticeClaim: null,
    updatedAt,
  });
  return true;
}

/**
 * Integrity, input or exhausted deliveries: the run cannot succeed any more. Returns the run as it was when this
 * call is the one that failed it, so that the caller reports the change once.
 */
export function failRun(
  state: StateStore,
  runId: string,
  error: ExportError,
  now: Date,
  chunkIndex?: number,
): Promise<RunDoc | undefined> {
  const failure = failureRecord(error, now);
  const updatedAt = now.toISOString();
  return state.transaction(async (tx) => {
    const runData = await tx.get(paths.run(runId));
    if (runData === undefined) return undefined;
    const run = parseDocument(runDocSchema, paths.run(runId), runData);
    const plan = planOf(run);
    if (plan && chunkIndex !== undefined)
      await transitionChunkAt(tx, plan, chunkIndex, 'failed', { failure, updatedAt });
    const failed = transitionRun(tx, run, 'failed', { failure, completedAt: updatedAt, updatedAt });
    return failed ? run : undefined;
  });
}

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
    switch (chunk.status) {
      case 'done':
      case 'blocked':
      case 'failed':
        return { claimed: false, why: chunk.status } as const;
      case 'running':
      case 'pending':
        break;
    }
    const claimed: ChunkDoc = {
      ...chunk,
      status: 'running',
      attempts: chunk.attempts + 1,
      updatedAt: now.toISOString(),
    };
    tx.set(path, claimed);
    return { claimed: true, chunk: claimed } as const;
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
  await state.update(paths.chunk(plan, index), {
    status: 'done',
    output,
    counts: result.counts,
    ...(result.quarantine === undefined ? {} : { quarantine: result.quarantine }),
    updatedAt: now.toISOString(),
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

/** Changes a chunk unless it is already done: a failure after completion (e.g. while finalising) is the run's. */
async function updateOpenChunk(
  tx: StateTransaction,
  plan: PlanRef,
  index: number,
  patch: Partial<ChunkDoc>,
): Promise<void> {
  const path = paths.chunk(plan, index);
  const data = await tx.get(path);
  if (data === undefined || parseDocument(chunkDocSchema, path, data).status === 'done') return;
  tx.update(path, patch);
}

/** A transient failure hands the chunk back; the redelivery claims it again. */
export function releaseChunk(state: StateStore, plan: PlanRef, index: number, now: Date): Promise<void> {
  return state.transaction((tx) =>
    updateOpenChunk(tx, plan, index, { status: 'pending', updatedAt: now.toISOString() }),
  );
}

/**
 * A destination problem: the chunk (if the failure was a chunk's) waits for the customer, the run is blocked, the
 * export is failing. Resolves true when this failure turned a healthy export failing (the exportFailing event).
 */
export function blockChunk(
  state: StateStore,
  run: RunDoc,
  index: number | undefined,
  error: ExportError,
  now: Date,
): Promise<boolean> {
  const failure = failureRecord(error, now);
  const exportPath = paths.export(exportDocId(run.accountId, run.exportId));
  const plan = planOf(run);
  return state.transaction(async (tx) => {
    const runData = await tx.get(paths.run(run.runId));
    const exportData = await tx.get(exportPath);
    if (plan && index !== undefined)
      await updateOpenChunk(tx, plan, index, { status: 'blocked', failure, updatedAt: now.toISOString() });
    const current =
      runData === undefined ? undefined : parseDocument(runDocSchema, paths.run(run.runId), runData);
    if (current?.status === 'running') {
      tx.update(paths.run(run.runId), { status: 'blocked', failure, updatedAt: now.toISOString() });
    }
    if (exportData === undefined) return false;
    const doc = parseDocument(exportDocSchema, exportPath, exportData);
    tx.update(exportPath, markFailing(doc, failure, now));
    return doc.health.state !== 'failing';
  });
}

/**
 * The export's failure episode: a failure while failing, or soon after a resume (the fix did not hold), continues it
 * with its first-failure time and the notices already sent, so that the three-day escalation cannot be reset by a
 * resume that fails again. Any other failure starts a new episode.
 */
function markFailing(doc: ExportDoc, failure: FailureRecord, now: Date): Partial<ExportDoc> {
  const { health } = doc;
  const relapse = health.relapseUntil !== undefined && Date.parse(health.relapseUntil) > now.getTime();
  const continues = health.state === 'failing' || relapse;
  const updatedAt = now.toISOString();
  if (continues) {
    const { relapseUntil: _closed, ...kept } = health;
    return {
      health: {
        ...kept,
        state: 'failing',
        firstFailureAt: health.firstFailureAt ?? failure.at,
        lastFailureAt: failure.at,
        lastError: failure,
      },
      updatedAt,
    };
  }
  return {
    health: { state: 'failing', firstFailureAt: failure.at, lastFailureAt: failure.at, lastError: failure },
    noticesSent: [],
    noticeClaim: null,
    updatedAt,
  };
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
  return state.transaction(async (tx) => {
    const runData = await tx.get(paths.run(runId));
    if (runData === undefined) return undefined;
    const run = parseDocument(runDocSchema, paths.run(runId), runData);
    const plan = planOf(run);
    if (plan && chunkIndex !== undefined) {
      await updateOpenChunk(tx, plan, chunkIndex, {
        status: 'failed',
        failure,
        updatedAt: now.toISOString(),
      });
    }
    if (run.status === 'succeeded' || run.status === 'failed') return undefined;
    tx.update(paths.run(runId), {
      status: 'failed',
      failure,
      completedAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    return run;
  });
}

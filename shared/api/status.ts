import type { ExportContext } from '../domain/context';
import type { FileEntry, RunDoc } from '../domain/documents';
import {
  chunkDocSchema,
  exportDocSchema,
  exportRunEntrySchema,
  parseDocument,
  paths,
} from '../domain/documents';
import { inputError } from '../domain/errors';
import { exportDocId, RUN_ID_PATTERN } from '../domain/ids';
import type { Page, PageRequest } from '../domain/pages';
import { encodePageToken, listPage, pagePosition } from '../domain/pages';
import { loadRun, planOf } from '../domain/export/run-state';
import { publicFailure } from './public-view';

/** An export's status and health as the dashboard shows them. */
export async function exportStatus(ctx: ExportContext, accountId: string, exportId: string) {
  const path = paths.export(exportDocId(accountId, exportId));
  const data = await ctx.state.get(path);
  const doc = data === undefined ? undefined : parseDocument(exportDocSchema, path, data);
  if (!doc || doc.accountId !== accountId)
    throw inputError('exportNotFound', `export "${exportId}" does not exist for account "${accountId}"`);
  const lastRun = doc.lastRunId ? await loadRun(ctx.state, doc.lastRunId) : undefined;
  return {
    ...doc,
    lastRun: lastRun && {
      runId: lastRun.runId,
      status: lastRun.status,
      chunkCount: lastRun.chunkCount,
      totals: lastRun.totals,
      manifest: lastRun.manifest,
      failure: lastRun.failure,
      completedAt: lastRun.completedAt,
    },
  };
}

/** The account's run, or "not found" (another account's run looks exactly like a missing one). */
async function accountRun(ctx: ExportContext, accountId: string, runId: string): Promise<RunDoc> {
  const run = RUN_ID_PATTERN.test(runId) ? await loadRun(ctx.state, runId) : undefined;
  if (!run || run.accountId !== accountId)
    throw inputError('runNotFound', `run "${runId}" does not exist for account "${accountId}"`);
  return run;
}

/** A run as a list shows it: its outcome, with failures in their public form. */
export function runSummary(run: RunDoc) {
  return {
    runId: run.runId,
    requestId: run.requestId,
    status: run.status,
    createdAt: run.createdAt,
    ...(run.completedAt === undefined ? {} : { completedAt: run.completedAt }),
    ...(run.totals === undefined ? {} : { totals: run.totals }),
    ...(run.failure === undefined ? {} : { failure: publicFailure(run.failure) }),
  };
}

const CHUNKS_PER_READ = 100;

/** The position after `files` of a run: which chunk comes next, and how many of its files were already listed. */
interface FilePosition {
  afterChunk?: string;
  skip: number;
}

function filePosition(startAfter: string | undefined): FilePosition {
  if (startAfter === undefined) return { skip: 0 };
  const match = /^(\d*):(\d+)$/.exec(startAfter);
  if (!match) throw inputError('invalidQuery', 'pageToken: is not a token this API returned');
  return { ...(match[1] ? { afterChunk: match[1] } : {}), skip: Number(match[2]) };
}

/**
 * One page of a run's files, in chunk order: chunk documents are read a batch at a time, so a run of any size
 * pages in bounded memory.
 */
export async function runFiles(
  ctx: ExportContext,
  accountId: string,
  runId: string,
  page?: PageRequest,
): Promise<Page<FileEntry>> {
  const plan = planOf(await accountRun(ctx, accountId, runId));
  const { pageSize, startAfter } = pagePosition(page);
  if (!plan) return { items: [] };
  let { afterChunk, skip } = filePosition(startAfter);
  const items: FileEntry[] = [];
  for (;;) {
    const chunks = await ctx.state.list(paths.chunks(plan), {
      limit: CHUNKS_PER_READ,
      ...(afterChunk === undefined ? {} : { startAfter: afterChunk }),
    });
    for (const { id, data } of chunks) {
      const files = parseDocument(chunkDocSchema, `${paths.chunks(plan)}/${id}`, data).files ?? [];
      const room = pageSize - items.length;
      const taken = files.slice(skip, skip + room);
      items.push(...taken);
      if (skip + taken.length < files.length) {
        return { items, nextPageToken: encodePageToken(`${afterChunk ?? ''}:${skip + taken.length}`) };
      }
      afterChunk = id;
      skip = 0;
      if (items.length === pageSize) return { items, nextPageToken: encodePageToken(`${id}:0`) };
    }
    if (chunks.length < CHUNKS_PER_READ) return { items };
  }
}

/** A run of the account with counts and its first page of files, without the request's platform-side sources. */
export async function runStatus(ctx: ExportContext, accountId: string, runId: string) {
  const run = await accountRun(ctx, accountId, runId);
  const { source: _platformSide, ...request } = run.request;
  return {
    ...runSummary(run),
    accountId: run.accountId,
    exportId: run.exportId,
    destinationId: run.destinationId,
    request,
    ...(run.chunkCount === undefined ? {} : { chunkCount: run.chunkCount }),
    ...(run.plannedAt === undefined ? {} : { plannedAt: run.plannedAt }),
    ...(run.manifest === undefined ? {} : { manifest: run.manifest }),
    updatedAt: run.updatedAt,
    files: await runFiles(ctx, accountId, runId),
  };
}

/** One page of the account's exports: a query on the account, never a scan of every account's. */
export function listExports(ctx: ExportContext, accountId: string, page?: PageRequest) {
  return listPage(ctx.state, 'exports', [{ field: 'accountId', equals: accountId }], page, (id, data) =>
    parseDocument(exportDocSchema, `exports/${id}`, data),
  );
}

/** One page of an export's runs, newest first (the run index written with each run). */
export async function exportRuns(
  ctx: ExportContext,
  accountId: string,
  exportId: string,
  page?: PageRequest,
): Promise<Page<ReturnType<typeof runSummary>>> {
  const collection = paths.exportRuns(exportDocId(accountId, exportId));
  const entries = await listPage(ctx.state, collection, [], page, (id, data) =>
    parseDocument(exportRunEntrySchema, `${collection}/${id}`, data),
  );
  const runs = await Promise.all(entries.items.map((entry) => loadRun(ctx.state, entry.runId)));
  return {
    items: runs.filter((run): run is RunDoc => run?.accountId === accountId).map(runSummary),
    ...(entries.nextPageToken === undefined ? {} : { nextPageToken: entries.nextPageToken }),
  };
}

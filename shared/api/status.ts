import type { ExportContext } from '../domain/context';
import type { ExportDoc, FileEntry, RunDoc } from '../domain/documents';
import {
  chunkDocSchema,
  exportDocSchema,
  exportRunEntrySchema,
  filePageSchema,
  parseDocument,
  paths,
} from '../domain/documents';
import { inputError } from '../domain/errors';
import { getExport } from '../domain/health/restart-export';
import { exportDocId, RUN_ID_PATTERN } from '../domain/ids';
import type { Page, PageRequest } from '../domain/pages';
import { encodePageToken, listPage, pagePosition } from '../domain/pages';
import { loadRun, planOf } from '../domain/export/run-state';
import { pagesOf } from '../domain/queries';
import type { ExportSituation } from '../domain/health/run-explanation';
import { explainExport, explainRun, exportSituation, loadSituation } from '../domain/health/run-explanation';
import { publicFailure } from './public-view';

/**
 * An export as the dashboard shows it: `stopped` with its time and reason, the notices of the current failure
 * episode (number, time, the mail provider's message id), and while it is failing or stopped, the explanation (what
 * happened, what to do, what happens after). The claim a check holds is internal.
 */
async function publicExport(ctx: ExportContext, doc: ExportDoc) {
  const { noticeClaim: _internal, stoppedAt, stopReason, ...rest } = doc;
  const explanation = explainExport(await exportSituation(ctx.state, doc));
  return {
    ...rest,
    ...(explanation === undefined ? {} : { explanation }),
    stop:
      doc.status === 'stopped' ? { at: stoppedAt ?? undefined, reason: stopReason ?? undefined } : undefined,
    notices: doc.noticesSent.map((n) => ({
      number: n.notice,
      at: n.at,
      messageId: n.messageId,
      code: n.code,
    })),
  };
}

/** An export with its last run, as the dashboard's export page shows it. */
export async function exportStatus(ctx: ExportContext, accountId: string, exportId: string) {
  const doc = await getExport(ctx, accountId, exportId);
  const lastRun = doc.lastRunId ? await loadRun(ctx.state, doc.lastRunId) : undefined;
  return {
    ...(await publicExport(ctx, doc)),
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
  if (!run || run.accountId !== accountId) throw inputError('runNotFound', 'this account has no such run');
  return run;
}

/**
 * A run as a list shows it: its outcome, with failures in their public form, and for a run held or blocked, the
 * explanation from its export's situation.
 */
export function runSummary(run: RunDoc, situation?: ExportSituation) {
  const explanation = explainRun(run, situation);
  return {
    runId: run.runId,
    requestId: run.requestId,
    status: run.status,
    createdAt: run.createdAt,
    ...(run.completedAt === undefined ? {} : { completedAt: run.completedAt }),
    ...(run.totals === undefined ? {} : { totals: run.totals }),
    ...(run.failure === undefined ? {} : { failure: publicFailure(run.failure) }),
    ...(explanation === undefined ? {} : { explanation }),
  };
}

const DOCS_PER_READ = 100;

/**
 * Where a page of files starts: in the run's file pages (`p`), or in the chunk documents of a run written before
 * file lists had pages of their own (`c`); after which document, skipping how many of its next document's files.
 */
interface FilePosition {
  source: 'p' | 'c';
  afterDoc?: string;
  skip: number;
}

function filePosition(startAfter: string | undefined): FilePosition | undefined {
  if (startAfter === undefined) return undefined;
  const match = /^([pc]):([\w-]*):(\d+)$/.exec(startAfter);
  if (!match) throw inputError('invalidQuery', 'pageToken: is not a token this API returned');
  return {
    source: match[1] as FilePosition['source'],
    ...(match[2] ? { afterDoc: match[2] } : {}),
    skip: Number(match[3]),
  };
}

/** Reads documents that each hold a list of files, in id order, until a page is full; bounded memory per call. */
async function collectFiles(
  ctx: ExportContext,
  collection: string,
  filesOf: (id: string, data: unknown) => readonly FileEntry[],
  from: FilePosition,
  pageSize: number,
): Promise<Page<FileEntry>> {
  let { afterDoc, skip } = from;
  const token = (doc: string | undefined, skipped: number) =>
    encodePageToken(`${from.source}:${doc ?? ''}:${skipped}`);
  const items: FileEntry[] = [];
  for await (const docs of pagesOf(ctx.state, collection, [], DOCS_PER_READ, afterDoc)) {
    for (const { id, data } of docs) {
      const files = filesOf(id, data);
      const taken = files.slice(skip, skip + pageSize - items.length);
      items.push(...taken);
      if (skip + taken.length < files.length)
        return { items, nextPageToken: token(afterDoc, skip + taken.length) };
      afterDoc = id;
      skip = 0;
      if (items.length === pageSize) return { items, nextPageToken: token(id, 0) };
    }
  }
  return { items };
}

/**
 * One page of a run's files, in chunk order, from the file pages its chunks wrote (or, for a run written before
 * those existed, from its chunk documents): documents are read a batch at a time, so a run of any size pages in
 * bounded memory.
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
  const fromPages = (id: string, data: unknown) =>
    parseDocument(filePageSchema, `${paths.files(plan)}/${id}`, data).files;
  const fromChunks = (id: string, data: unknown) =>
    parseDocument(chunkDocSchema, `${paths.chunks(plan)}/${id}`, data).files ?? [];
  const position = filePosition(startAfter);
  if (position?.source === 'c') return collectFiles(ctx, paths.chunks(plan), fromChunks, position, pageSize);
  const paged = await collectFiles(
    ctx,
    paths.files(plan),
    fromPages,
    position ?? { source: 'p', skip: 0 },
    pageSize,
  );
  if (position || paged.items.length > 0) return paged;
  return collectFiles(ctx, paths.chunks(plan), fromChunks, { source: 'c', skip: 0 }, pageSize);
}

/** A run of the account with counts and its first page of files, without the request's platform-side sources. */
export async function runStatus(ctx: ExportContext, accountId: string, runId: string) {
  const run = await accountRun(ctx, accountId, runId);
  const { source: _platformSide, ...request } = run.request;
  return {
    ...runSummary(run, await loadSituation(ctx.state, accountId, run.exportId)),
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
export async function listExports(ctx: ExportContext, accountId: string, page?: PageRequest) {
  const docs = await listPage(
    ctx.state,
    'exports',
    [{ field: 'accountId', equals: accountId }],
    page,
    (id, data) => parseDocument(exportDocSchema, `exports/${id}`, data),
  );
  return { ...docs, items: await Promise.all(docs.items.map((doc) => publicExport(ctx, doc))) };
}

/** One page of an export's runs, newest first (the run index written with each run). */
export async function exportRuns(
  ctx: ExportContext,
  accountId: string,
  exportId: string,
  page?: PageRequest,
): Promise<Page<ReturnType<typeof runSummary>>> {
  // An unknown export is 404, as an unknown run's files are: never an empty list.
  await getExport(ctx, accountId, exportId);
  const situation = await loadSituation(ctx.state, accountId, exportId);
  const collection = paths.exportRuns(exportDocId(accountId, exportId));
  const entries = await listPage(ctx.state, collection, [], page, (id, data) =>
    parseDocument(exportRunEntrySchema, `${collection}/${id}`, data),
  );
  const runs = await Promise.all(entries.items.map((entry) => loadRun(ctx.state, entry.runId)));
  return {
    items: runs
      .filter((run): run is RunDoc => run?.accountId === accountId)
      .map((run) => runSummary(run, situation)),
    ...(entries.nextPageToken === undefined ? {} : { nextPageToken: entries.nextPageToken }),
  };
}

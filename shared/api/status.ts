import type { ExportContext } from '../domain/context';
import { exportDocSchema, parseDocument, paths } from '../domain/documents';
import { inputError } from '../domain/errors';
import { exportDocId, RUN_ID_PATTERN } from '../domain/ids';
import { loadRun } from '../domain/export/run-state';

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

/** A run of the account, without the request's platform-side source locations. */
export async function runStatus(ctx: ExportContext, accountId: string, runId: string) {
  const run = RUN_ID_PATTERN.test(runId) ? await loadRun(ctx.state, runId) : undefined;
  if (!run || run.accountId !== accountId)
    throw inputError('runNotFound', `run "${runId}" does not exist for account "${accountId}"`);
  const { request, requestHash: _hash, ...rest } = run;
  return { ...rest, request: { ...request, source: undefined } };
}

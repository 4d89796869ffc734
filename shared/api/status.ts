import type { ExportContext } from '../domain/context';
import { inputError } from '../domain/errors';
import { loadRun } from '../domain/export/run-state';
import { getExport } from '../domain/health/restart-export';

/**
 * An export's status and health as the dashboard shows them: `stopped` with its time and reason, and the notices of
 * the current failure episode (number, time, the mail provider's message id). The claim a check holds is internal.
 */
export async function exportStatus(ctx: ExportContext, accountId: string, exportId: string) {
  const doc = await getExport(ctx, accountId, exportId);
  const lastRun = doc.lastRunId ? await loadRun(ctx.state, doc.lastRunId) : undefined;
  const { noticeClaim: _internal, stoppedAt, stopReason, ...rest } = doc;
  return {
    ...rest,
    stop:
      doc.status === 'stopped' ? { at: stoppedAt ?? undefined, reason: stopReason ?? undefined } : undefined,
    notices: doc.noticesSent.map((n) => ({
      number: n.notice,
      at: n.at,
      messageId: n.messageId,
      code: n.code,
    })),
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
  const run = /^[0-9a-f]{12}$/.test(runId) ? await loadRun(ctx.state, runId) : undefined;
  if (!run || run.accountId !== accountId)
    throw inputError('runNotFound', `run "${runId}" does not exist for account "${accountId}"`);
  const { request, requestHash: _hash, ...rest } = run;
  return { ...rest, request: { ...request, source: undefined } };
}

import type { ExportContext } from '../context';
import type { RunDoc } from '../documents';
import type { ExportError } from '../errors';
import { logEvent } from '../log-events';
import { moveRun } from './move-runs';
import { blockChunk, failRun, loadRun } from './run-state';

/** The ids every run event carries, so that a log query or a metric label can group by account and export. */
export const runFields = (run: Pick<RunDoc, 'accountId' | 'exportId' | 'runId'>) => ({
  accountId: run.accountId,
  exportId: run.exportId,
  runId: run.runId,
});

/** Fails the run; the call that actually failed it logs `runFailed`, so a redelivery does not count twice. */
export async function failRunAndReport(
  ctx: ExportContext,
  runId: string,
  error: ExportError,
  chunk?: number,
): Promise<void> {
  const failed = await failRun(ctx.state, runId, error, ctx.clock.now(), chunk);
  if (!failed) return;
  logEvent(ctx.logger, 'runFailed', {
    ...runFields(failed),
    kind: error.kind,
    code: error.code,
    ...(chunk === undefined ? {} : { chunk }),
  });
}

/**
 * Blocks the run, and the chunk if the failure was a chunk's (`chunkBlocked`); the call that opened the export's
 * failure episode logs `exportFailing`. A run whose export has moved to another destination meanwhile is moved too,
 * instead of failing the export for a bucket it no longer uses.
 */
export async function blockRunAndReport(
  ctx: ExportContext,
  run: RunDoc,
  chunk: number | undefined,
  error: ExportError,
): Promise<void> {
  const outcome = await blockChunk(ctx.state, run, chunk, error, ctx.clock.now());
  if (chunk !== undefined)
    logEvent(ctx.logger, 'chunkBlocked', { ...runFields(run), chunk, code: error.code });
  if (outcome.nowFailing)
    logEvent(ctx.logger, 'exportFailing', { ...runFields(run), code: error.code, by: 'worker' });
  if (outcome.stale) {
    const current = await loadRun(ctx.state, run.runId);
    if (current) await moveRun(ctx, current);
  }
}

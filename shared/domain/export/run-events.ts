import type { ExportContext } from '../context';
import type { RunDoc } from '../documents';
import type { ExportError } from '../errors';
import { logEvent } from '../log-events';
import { blockChunk, failRun } from './run-state';

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

/** Blocks the chunk (`chunkBlocked`); the call that turned the export from healthy to failing logs `exportFailing`. */
export async function blockChunkAndReport(
  ctx: ExportContext,
  run: RunDoc,
  chunk: number,
  error: ExportError,
): Promise<void> {
  const nowFailing = await blockChunk(ctx.state, run, chunk, error, ctx.clock.now());
  logEvent(ctx.logger, 'chunkBlocked', { ...runFields(run), chunk, code: error.code });
  if (nowFailing)
    logEvent(ctx.logger, 'exportFailing', { ...runFields(run), code: error.code, by: 'worker' });
}

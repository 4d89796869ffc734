import type { ExportContext } from '../context';
import { ExportError } from '../errors';
import type { ExportRequest } from '../export-request';
import { chunkDocSchema, parseDocument, paths } from '../documents';
import { logEvent } from '../log-events';
import { failRunAndReport, runFields } from './run-events';
import { findRunOfRequest, loadRun, planOf } from './run-state';

const exhausted = (what: string, deliveryAttempts: number | undefined) =>
  new ExportError(
    'deliveryAttemptsExhausted',
    `${what} still failed after ${deliveryAttempts ?? 'the maximum number of'} delivery attempts`,
    { deliveryAttempts },
  );

/** Whether the chunk was written: its task kept failing only while it waited for the run's finaliser. */
async function chunkIsDone(ctx: ExportContext, runId: string, chunk: number): Promise<boolean> {
  const run = await loadRun(ctx.state, runId);
  const plan = run && planOf(run);
  if (!plan) return false;
  const data = await ctx.state.get(paths.chunk(plan, chunk));
  return (
    data !== undefined && parseDocument(chunkDocSchema, paths.chunk(plan, chunk), data).status === 'done'
  );
}

/**
 * A chunk task that kept failing transiently ends here: its run cannot complete, so it fails loudly. A task whose
 * chunk is done was only waiting for a finaliser (busy, or dead with its lease): the run's data is all written, so
 * the run is left to that finaliser, a later delivery or the hourly sweep, never failed.
 */
export async function failDeadLetteredChunk(
  ctx: ExportContext,
  runId: string,
  chunk: number,
  deliveryAttempts?: number,
): Promise<void> {
  if (await chunkIsDone(ctx, runId, chunk)) {
    ctx.logger.warn(
      'dead-lettered task of a finished chunk; the run is left to its finaliser and the sweep',
      {
        runId,
        chunk,
        deliveryAttempts,
      },
    );
    return;
  }
  const run = await loadRun(ctx.state, runId);
  logEvent(ctx.logger, 'chunkDeadLettered', {
    ...(run ? runFields(run) : { runId }),
    chunk,
    deliveryAttempts,
  });
  await failRunAndReport(ctx, runId, exhausted(`chunk ${chunk}`, deliveryAttempts), chunk);
}

/**
 * An export request that could never be planned (its source kept failing, or the state store was down) ends here
 * instead of being retried until Pub/Sub drops it: its run fails loudly. Returns false when no run was created,
 * so that the caller records the request as rejected.
 */
export async function failDeadLetteredRequest(
  ctx: ExportContext,
  request: ExportRequest,
  deliveryAttempts?: number,
): Promise<boolean> {
  const run = await findRunOfRequest((path) => ctx.state.get(path), request.accountId, request.requestId);
  if (!run) return false;
  const { runId } = run;
  logEvent(ctx.logger, 'requestDeadLettered', {
    ...runFields(run),
    requestId: request.requestId,
    deliveryAttempts,
  });
  await failRunAndReport(ctx, runId, exhausted(`planning request ${request.requestId}`, deliveryAttempts));
  return true;
}

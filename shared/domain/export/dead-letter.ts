import type { ExportContext } from '../context';
import { ExportError } from '../errors';
import { runIdFor } from '../ids';
import type { ExportRequest } from '../export-request';
import { logEvent } from '../log-events';
import { failRunAndReport, runFields } from './run-events';
import { loadRun } from './run-state';

const exhausted = (what: string, deliveryAttempts: number | undefined) =>
  new ExportError(
    'deliveryAttemptsExhausted',
    `${what} still failed after ${deliveryAttempts ?? 'the maximum number of'} delivery attempts`,
    { deliveryAttempts },
  );

/** A chunk task that kept failing transiently ends here: its run cannot complete, so it fails loudly. */
export async function failDeadLetteredChunk(
  ctx: ExportContext,
  runId: string,
  chunk: number,
  deliveryAttempts?: number,
): Promise<void> {
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
  const runId = runIdFor(request.accountId, request.requestId);
  const run = await loadRun(ctx.state, runId);
  if (!run) return false;
  logEvent(ctx.logger, 'requestDeadLettered', {
    ...runFields(run),
    requestId: request.requestId,
    deliveryAttempts,
  });
  await failRunAndReport(ctx, runId, exhausted(`planning request ${request.requestId}`, deliveryAttempts));
  return true;
}

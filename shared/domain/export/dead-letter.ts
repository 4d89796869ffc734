import type { ExportContext } from '../context';
import { ExportError } from '../errors';
import type { ExportRequest } from '../export-request';
import { failRun, findRunOfRequest } from './run-state';

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
  await failRun(ctx.state, runId, exhausted(`chunk ${chunk}`, deliveryAttempts), ctx.clock.now(), chunk);
  ctx.logger.error('chunk dead-lettered; run failed', { runId, chunk, deliveryAttempts });
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
  await failRun(
    ctx.state,
    runId,
    exhausted(`planning request ${request.requestId}`, deliveryAttempts),
    ctx.clock.now(),
  );
  ctx.logger.error('export request dead-lettered; run failed', {
    runId,
    requestId: request.requestId,
    deliveryAttempts,
  });
  return true;
}

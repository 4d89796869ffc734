import type { ExportContext } from './context';
import { ExportError } from './errors';
import { failRun } from './run-state';

/** A chunk task that kept failing transiently ends here: its run cannot complete, so it fails loudly. */
export async function failDeadLetteredChunk(
  ctx: ExportContext,
  runId: string,
  chunk: number,
  deliveryAttempts?: number,
): Promise<void> {
  const error = new ExportError(
    'transient',
    'deliveryAttemptsExhausted',
    `chunk ${chunk} still failed after ${deliveryAttempts ?? 'the maximum number of'} delivery attempts`,
    { deliveryAttempts },
  );
  await failRun(ctx.state, runId, error, ctx.clock.now(), chunk);
  ctx.logger.error('chunk dead-lettered; run failed', { runId, chunk, deliveryAttempts });
}

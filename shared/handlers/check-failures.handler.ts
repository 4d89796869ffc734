import type { ServiceRuntime } from './service-runtime';
import type { FailureCheckOutcome } from '../domain/health/check-failing-exports';
import { checkFailingExports } from '../domain/health/check-failing-exports';
import type { Delivery } from '../ports/bus.port';

/**
 * The hourly failure check (Cloud Scheduler → failure-check topic). The message content does not matter: Cloud
 * Scheduler may fire twice, and a second check finds nothing left to resume.
 */
export async function handleCheckFailures(
  runtime: ServiceRuntime,
  _payload: unknown,
  delivery: Delivery,
): Promise<FailureCheckOutcome> {
  const outcome = await checkFailingExports(runtime.ctx, runtime.destinationDeps);
  runtime.ctx.logger.info('failure check done', {
    messageId: delivery.messageId,
    checked: outcome.checked,
    resumed: outcome.resumed.length,
    stillFailing: outcome.stillFailing.length,
  });
  return outcome;
}

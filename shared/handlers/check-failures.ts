import type { ServiceRuntime } from '../composition/service-runtime';
import type { FailureCheckOutcome } from '../domain/check-failures';
import { checkFailingExports } from '../domain/check-failures';
import type { Delivery } from './messages';

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

import { performance } from 'node:perf_hooks';
import type { ServiceRuntime } from './service-runtime';
import type { ExportContext } from '../domain/context';
import type { FailureCheckOutcome } from '../domain/health/check-failing-exports';
import { checkFailingExports } from '../domain/health/check-failing-exports';
import type { Delivery } from '../ports/bus.port';
import { failureCheckMessageSchema } from './messages';

/**
 * The time to check at: now, or in test and demo environments (FAILURE_CHECK_ACCEPTS_TIME) the time the message
 * names, so that a test can walk an export through three days of checks in seconds.
 */
function checkClock(ctx: ExportContext, payload: unknown): ExportContext {
  const message = failureCheckMessageSchema.safeParse(payload);
  const now = message.success ? message.data.now : undefined;
  if (now === undefined) return ctx;
  if (!ctx.settings.health.acceptSimulatedTime) {
    ctx.logger.warn('failure check message names a time; ignored (FAILURE_CHECK_ACCEPTS_TIME is off)', {
      now,
    });
    return ctx;
  }
  const at = new Date(now);
  return { ...ctx, clock: { now: () => at } };
}

/**
 * The hourly failure check (Cloud Scheduler → failure-check topic): sweep unfinished runs, then probe, resume or
 * escalate every failing export. Without a mailer the check still sweeps and resumes, and says loudly that it cannot
 * warn anyone (an export is never stopped without its warnings). The message content does not matter: Cloud Scheduler may fire twice, and notices
 * are claimed, so a second check sends nothing twice.
 */
export async function handleCheckFailures(
  runtime: ServiceRuntime,
  payload: unknown,
  delivery: Delivery,
): Promise<FailureCheckOutcome> {
  const ctx = checkClock(runtime.ctx, payload);
  // The safety net (sweep, resume) never depends on e-mail; only the notices, and so the stop, do.
  if (!runtime.mailer)
    ctx.logger.error(
      'no mailer configured (SENDGRID_API_KEY): failing exports get no notice and are never stopped',
    );
  // The sweep gets half the budget at most, so that the escalation always gets its share (docs/ESCALATION.md).
  const start = performance.now();
  const budget = ctx.settings.health.checkBudgetSeconds * 1000;
  const outcome = await checkFailingExports(ctx, {
    destinations: runtime.destinationDeps,
    mailer: runtime.mailer,
    webhook: {
      sender: runtime.webhooks.sender,
      cipher: runtime.destinationDeps.cipher,
      ...(runtime.webhooks.retry ? { retry: runtime.webhooks.retry } : {}),
    },
    sweepOutOfTime: () => performance.now() > start + budget / 2,
    outOfTime: () => performance.now() > start + budget,
  });
  const log = outcome.complete ? ctx.logger.info.bind(ctx.logger) : ctx.logger.warn.bind(ctx.logger);
  log(outcome.complete ? 'failure check done' : 'failure check ran out of time; the next check goes on', {
    messageId: delivery.messageId,
    at: outcome.at,
    checked: outcome.checked,
    resumed: outcome.resumed.length,
    stillFailing: outcome.stillFailing.length,
    notices: outcome.notices.length,
    recoveryNotices: outcome.recoveryNotices.length,
    stopped: outcome.stopped.length,
    mailFailures: outcome.mailFailures,
    runsExamined: outcome.sweep.examined,
    runsSwept: outcome.sweep.swept.length,
    runsRepaired: outcome.sweep.repaired.length,
    sweepComplete: outcome.sweep.complete,
  });
  return outcome;
}

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { SettableClock } from '../../adapters/clocks';
import type { FailureCheckOutcome } from '../../domain/health/check-failing-exports';
import { formatUtc } from '../../domain/format';
import type { CommonOptions } from '../runtime';
import { cliConfig, openRuntime, printResult } from '../runtime';

interface CheckOptions extends CommonOptions {
  now?: Date;
}

export const isoTime = (value: string): Date => {
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time.getTime()))
    throw new InvalidArgumentError('must be an ISO-8601 date-time, e.g. 2026-03-01T09:00:00Z');
  return time;
};

/** What one check did, one line per action. */
export function formatCheck(outcome: FailureCheckOutcome): string {
  const lines = [
    `failure check at ${formatUtc(new Date(outcome.at))}: ${outcome.checked} failing export(s) checked${outcome.complete ? '' : ' (out of time; the next check goes on)'}`,
    ...outcome.resumed.map((exportId) => `  resumed        ${exportId}`),
    ...outcome.notices.map((n) => `  notice ${n.notice}       ${n.exportId} → ${n.to}: "${n.subject}"`),
    ...outcome.recoveryNotices.map(
      (n) => `  recovery       ${n.exportId} → ${n.to.join(', ')}: "${n.subject}"`,
    ),
    ...outcome.stopped.map((exportId) => `  stopped        ${exportId}`),
    ...outcome.stillFailing.map((f) => `  still failing  ${f.exportId}: ${f.code} since ${f.since ?? '?'}`),
  ];
  if (outcome.mailFailures > 0)
    lines.push(`  mail failures  ${outcome.mailFailures} (retried at the next check)`);
  const { sweep } = outcome;
  lines.push(
    `  runs           ${sweep.examined} unfinished, ${sweep.swept.length} swept, ${sweep.stuck.length} stuck`,
  );
  return lines.join('\n');
}

export function registerCheckFailures(program: Command): void {
  program
    .command('check-failures')
    .description(
      'run the hourly failure check once, as Cloud Scheduler fires it: finish runs lost messages left, re-probe failing exports, resume them or send notices 1, 2, 3 (outbox/) and stop',
    )
    .option('--now <iso>', 'check as if it were this time (what notices and stops record too)', isoTime)
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<CheckOptions>();
      const runtime = await openRuntime(
        cliConfig(options),
        options.now ? { clock: new SettableClock(options.now) } : {},
      );
      try {
        const outcome = await runtime.fireCheck();
        printResult(options, formatCheck(outcome), outcome);
      } finally {
        await runtime.close();
      }
    });
}

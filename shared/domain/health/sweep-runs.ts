import type { ExportContext } from '../context';
import type { RunDoc } from '../documents';
import { paths, parseDocument, runDocSchema } from '../documents';
import { asExportError } from '../errors';
import { continueRun } from '../export/continue-run';
import { planOf } from '../export/run-state';
import { logEvent } from '../log-events';
import { pagesOf, runsWithStatus } from '../queries';

export interface SweepOutcome {
  /** Runs looked at (planning or running). */
  examined: number;
  /** Runs given their lost messages again, or finalised. */
  swept: string[];
  /** Runs reported as stuck this time. */
  stuck: string[];
}

type Sweep = NonNullable<RunDoc['sweep']>;

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Progress of a run as the sweep measures it: finished chunks (an aggregation count, no document to bump). */
async function doneChunks(ctx: ExportContext, run: RunDoc): Promise<number> {
  const plan = planOf(run);
  return plan ? ctx.state.count(paths.chunks(plan), { field: 'status', equals: 'done' }) : 0;
}

/** Records what the sweep saw, unless the run moved on meanwhile (then there is nothing to sweep). */
function recordSweep(ctx: ExportContext, run: RunDoc, sweep: Sweep): Promise<void> {
  const path = paths.run(run.runId);
  return ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, path, await tx.get(path));
    if (current.status === run.status) tx.update(path, { sweep });
  });
}

/** Gives a run without progress its lost messages again: the request of a planning run, the chunks of a running one. */
async function sweepRun(ctx: ExportContext, run: RunDoc): Promise<boolean> {
  if (run.status === 'planning') {
    await ctx.bus.publish(ctx.settings.topics.requests, [
      { data: run.request, attributes: { accountId: run.accountId, requestId: run.requestId } },
    ]);
    return true;
  }
  const step = await continueRun(ctx, run);
  return step.published > 0 || step.finalised;
}

/**
 * One run: the first sighting and any progress since the last sweep (re)start its clock; no progress past
 * RUN_SWEEP_AFTER_MINUTES sweeps it (all chunks done → finalise, chunks open → publish them again, planning → publish
 * the request again); no progress past RUN_STUCK_AFTER_HOURS is reported once to operators (runStuck). A run that
 * works normally is never swept: only a sighting of the same status and count an hour later counts as "no progress".
 */
async function examine(ctx: ExportContext, run: RunDoc, outcome: SweepOutcome): Promise<void> {
  const now = ctx.clock.now();
  const { runSweepAfterMinutes, runStuckAfterHours } = ctx.settings.health;
  const done = await doneChunks(ctx, run);
  const seen = run.sweep;
  if (!seen || seen.status !== run.status || seen.doneChunks !== done) {
    await recordSweep(ctx, run, { status: run.status, doneChunks: done, since: now.toISOString() });
    return;
  }
  const idle = now.getTime() - Date.parse(seen.since);
  if (idle < runSweepAfterMinutes * MINUTE) return;
  const fields = { runId: run.runId, accountId: run.accountId, exportId: run.exportId, status: run.status };
  if (idle >= runStuckAfterHours * HOUR && !seen.stuckReportedAt) {
    logEvent(ctx.logger, 'runStuck', {
      ...fields,
      doneChunks: done,
      chunkCount: run.chunkCount,
      since: seen.since,
    });
    await recordSweep(ctx, run, { ...seen, stuckReportedAt: now.toISOString() });
    outcome.stuck.push(run.runId);
  }
  if (await sweepRun(ctx, run)) {
    logEvent(ctx.logger, 'runSwept', { ...fields, doneChunks: done, idleMinutes: Math.round(idle / MINUTE) });
    outcome.swept.push(run.runId);
  }
}

/**
 * The hourly check's safety net: runs that are planning or running but made no progress past a deadline lost a
 * message (or their finaliser died), and get what they need to finish. Pages are bounded; a failure on one run is
 * logged and does not stop the others.
 */
export async function sweepRuns(ctx: ExportContext): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { examined: 0, swept: [], stuck: [] };
  for (const status of ['planning', 'running'] as const) {
    const where = runsWithStatus(status);
    for await (const page of pagesOf(ctx.state, 'runs', where, ctx.settings.health.checkPageSize)) {
      for (const doc of page) {
        outcome.examined += 1;
        const run = parseDocument(runDocSchema, paths.run(doc.id), doc.data);
        await examine(ctx, run, outcome).catch((error: unknown) => {
          const failure = asExportError(error);
          ctx.logger.warn('sweeping a run failed; the next check tries again', {
            runId: run.runId,
            code: failure.code,
            error: failure.message,
          });
        });
      }
    }
  }
  return outcome;
}

import pLimit from 'p-limit';
import type { StoredDocument } from '../../ports/state-store.port';
import type { ExportContext } from '../context';
import type { ExportDoc, RunDoc } from '../documents';
import { exportDocSchema, paths, parseDocument, runDocSchema } from '../documents';
import { asExportError, destinationError } from '../errors';
import { continueRun } from '../export/continue-run';
import { moveRun } from '../export/move-runs';
import { resumeExport } from '../export/resume-export';
import { blockRunAndReport } from '../export/run-events';
import { planOf } from '../export/run-state';
import { exportDocId } from '../ids';
import { exportStateOf } from '../lifecycle/transitions';
import { logEvent } from '../log-events';
import { pagesOf, runsWithStatus } from '../queries';
import { z } from '../zod';

export interface SweepOutcome {
  /** Runs looked at. */
  examined: number;
  /** Runs given their lost messages again, or finalised. */
  swept: string[];
  /** Runs reported as stuck this time. */
  stuck: string[];
  /** Blocked runs whose export had forgotten them (healthy) or moved on (another destination): set right. */
  repaired: string[];
  /** False when the sweep's share of the time ran out; the next check goes on from its cursor. */
  complete: boolean;
}

type Sweep = NonNullable<RunDoc['sweep']>;

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The statuses the sweep pages through, in order; its cursor is a place in this sequence. */
const SWEPT = ['planning', 'running', 'blocked', 'held'] as const;
type Swept = (typeof SWEPT)[number];

/** Where a sweep that ran out of time stopped: the next one goes on from there, so no run is starved. */
const CURSOR_PATH = 'checks/sweep';
const cursorSchema = z.object({ status: z.enum(SWEPT).optional(), after: z.string().optional() });
type Cursor = z.infer<typeof cursorSchema>;

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
 * A planning or running run: the first sighting and any progress since the last sweep (re)start its clock; no progress
 * past RUN_SWEEP_AFTER_MINUTES sweeps it (all chunks done → finalise, chunks open → publish them again, planning →
 * publish the request again); no progress past RUN_STUCK_AFTER_HOURS is reported once to operators (runStuck). A run
 * that works normally is never swept: only a sighting of the same status and count an hour later is "no progress".
 */
async function examineInFlight(ctx: ExportContext, run: RunDoc, outcome: SweepOutcome): Promise<void> {
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
 * A run waiting for its export: blocked (for the customer) or held (for a restart). Whatever interleaving left it, it
 * must be the export's business: a blocked run under a healthy export makes the export failing again (so this very
 * check probes it and resumes or warns), a blocked run of a destination the export no longer uses follows the export,
 * and a held run under an export that is no longer stopped is caught up.
 */
async function examineWaiting(
  ctx: ExportContext,
  run: RunDoc,
  exportDoc: ExportDoc | undefined,
  outcome: SweepOutcome,
): Promise<void> {
  if (!exportDoc) return;
  const state = exportStateOf(exportDoc);
  if (state === 'stopped') return;
  if (run.status === 'held') {
    const resumed = await resumeExport(ctx, run.accountId, run.exportId);
    if (resumed.caughtUp.includes(run.runId)) outcome.repaired.push(run.runId);
    return;
  }
  if (run.destinationId !== exportDoc.destinationId) {
    if (await moveRun(ctx, run)) outcome.repaired.push(run.runId);
    return;
  }
  if (state === 'failing') return;
  const failure = run.failure;
  const error = destinationError(
    failure?.kind === 'destination' && failure.code === 'destinationDeleted'
      ? 'destinationDeleted'
      : 'destinationRejected',
    failure?.message ?? `run ${run.runId} is blocked`,
  );
  await blockRunAndReport(ctx, run, undefined, error);
  outcome.repaired.push(run.runId);
}

/** Reads each export once per sweep. */
function exportReader(ctx: ExportContext) {
  const cache = new Map<string, Promise<ExportDoc | undefined>>();
  return (run: RunDoc): Promise<ExportDoc | undefined> => {
    const path = paths.export(exportDocId(run.accountId, run.exportId));
    let found = cache.get(path);
    if (!found) {
      found = ctx.state
        .get(path)
        .then((data) => (data === undefined ? undefined : parseDocument(exportDocSchema, path, data)));
      cache.set(path, found);
    }
    return found;
  };
}

/** The statuses still to page, from the cursor on. */
function fromCursor(cursor: Cursor): { status: Swept; after?: string | undefined }[] {
  const start = cursor.status === undefined ? 0 : SWEPT.indexOf(cursor.status);
  return SWEPT.slice(start).map((status, i) => ({
    status,
    ...(i === 0 && cursor.after !== undefined ? { after: cursor.after } : {}),
  }));
}

/**
 * The hourly check's safety net, so that every run finishes or is the customer's to fix: runs that are planning or
 * running but made no progress past a deadline lost a message (or their finaliser died) and get what they need; runs
 * that wait (blocked, held) are matched with their export's state. Pages are bounded and worked with bounded
 * concurrency (FAILURE_CHECK_CONCURRENCY) within the sweep's share of the check's time; when it runs out, the sweep
 * records its cursor and the next check goes on from there. A document that fails its schema is logged
 * (documentUnreadable, its path only) and skipped; a failure on one run is logged and never stops the others.
 */
export async function sweepRuns(
  ctx: ExportContext,
  options: { outOfTime?: (() => boolean) | undefined } = {},
): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { examined: 0, swept: [], stuck: [], repaired: [], complete: true };
  const limit = pLimit(ctx.settings.health.checkConcurrency);
  const exportOf = exportReader(ctx);
  const cursor = cursorSchema.catch({}).parse((await ctx.state.get(CURSOR_PATH)) ?? {});

  const examine = async (doc: StoredDocument): Promise<void> => {
    const parsed = runDocSchema.safeParse(doc.data);
    if (!parsed.success) {
      logEvent(ctx.logger, 'documentUnreadable', { path: paths.run(doc.id), by: 'sweep' });
      return;
    }
    const run = parsed.data;
    try {
      if (run.status === 'planning' || run.status === 'running') await examineInFlight(ctx, run, outcome);
      else await examineWaiting(ctx, run, await exportOf(run), outcome);
    } catch (error) {
      const failure = asExportError(error);
      ctx.logger.warn('sweeping a run failed; the next check tries again', {
        runId: run.runId,
        code: failure.code,
        error: failure.message,
      });
    }
  };

  let position: Cursor = cursor;
  sweep: for (const { status, after } of fromCursor(cursor)) {
    position = { status, ...(after === undefined ? {} : { after }) };
    const pages = pagesOf(
      ctx.state,
      'runs',
      runsWithStatus(status),
      ctx.settings.health.checkPageSize,
      after,
    );
    for await (const page of pages) {
      if (options.outOfTime?.()) {
        outcome.complete = false;
        break sweep;
      }
      outcome.examined += page.length;
      await Promise.all(page.map((doc) => limit(() => examine(doc))));
      position = { status, after: page.at(-1)?.id };
    }
  }
  const next: Cursor = outcome.complete ? {} : position;
  if (next.status !== cursor.status || next.after !== cursor.after) await ctx.state.set(CURSOR_PATH, next);
  return outcome;
}

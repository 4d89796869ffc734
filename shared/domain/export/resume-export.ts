import type { ExportContext } from '../context';
import type { ExportDoc, RecoveryNotice, RunDoc, SupersededRecovery } from '../documents';
import { exportDocSchema, noticesOut, parseDocument, paths, runDocSchema } from '../documents';
import { exportDocId } from '../ids';
import { exportStateOf } from '../lifecycle/transitions';
import { transitionExport, transitionRun } from '../lifecycle/write';
import { logEvent } from '../log-events';
import { continueRun } from './continue-run';
import { runsOfExportWith } from './export-runs';
import { planOf } from './run-state';
import { moveBlockedRuns } from './move-runs';

export interface ResumeOutcome {
  runs: string[];
  chunks: number;
  finalised: string[];
  /** Blocked runs planned again for the destination the export uses now. */
  moved: string[];
  /** Requests held while the export was stopped, now planned, in request order. */
  caughtUp: string[];
  /**
   * False when a destination error was recorded while the resume worked (a run re-blocked): the export stays failing,
   * and the next check looks at it again.
   */
  recovered: boolean;
}

type Delivered = RecoveryNotice['delivered'];

/**
 * The recovery notice this recovery makes due, if a notice of the episode went out: the last one recorded, or the
 * one whose send was claimed (in flight, or its answer lost: it may have gone out), which the recovery then waits for.
 * None when a recovery notice already followed that notice: one per episode and last notice.
 */
function recoveryNoticeFor(doc: ExportDoc, now: string, delivered: Delivered): RecoveryNotice | undefined {
  const episodeStart = doc.health.firstFailureAt;
  const claimed = doc.noticeClaim ?? undefined;
  const numbers = [...noticesOut(doc), ...(claimed ? [claimed.notice] : [])];
  if (episodeStart === undefined || numbers.length === 0) return undefined;
  const afterNotice = Math.max(...numbers) as RecoveryNotice['afterNotice'];
  const existing = doc.recoveryNotice?.episodeStart === episodeStart ? doc.recoveryNotice : undefined;
  const followed = existing?.followed ?? [];
  if (followed.includes(afterNotice)) return undefined;
  // Recovered again before the notice went out (a relapse meanwhile): the same notice, confirmed from now on.
  if (existing?.due && existing.afterNotice === afterNotice)
    return { ...existing, recoveredAt: now, delivered };
  const code = doc.health.lastError?.code;
  const waitFor =
    claimed && !doc.noticesSent.some((n) => n.notice === claimed.notice)
      ? { holder: claimed.holder, until: claimed.leaseUntil }
      : null;
  return {
    episodeStart,
    afterNotice,
    followed,
    ...(code ? { code } : {}),
    recoveredAt: now,
    delivered,
    due: true,
    waitFor,
    instead: waitFor ? supersededBy(doc.recoveryNotice, episodeStart) : null,
    claim: null,
  };
}

/**
 * The recovery notice a new one replaces while it is still due, from an earlier episode (or the one that notice had
 * replaced in turn): kept as `instead`, in case nothing of the new episode reaches the customer.
 */
function supersededBy(r: RecoveryNotice | null | undefined, episodeStart: string): SupersededRecovery | null {
  if (!r) return null;
  if (r.episodeStart === episodeStart || !r.due) return r.instead ?? null;
  return {
    episodeStart: r.episodeStart,
    afterNotice: r.afterNotice,
    followed: r.followed,
    ...(r.code === undefined ? {} : { code: r.code }),
    claim: r.claim ?? null,
  };
}

/**
 * A blocked run is handed back to the workers: to the writers if it has a plan, to the planner (planning, its request
 * published again) if it was blocked before it had one. The run as it is now (another resume may have got there
 * first).
 */
async function reopenRun(ctx: ExportContext, run: RunDoc): Promise<RunDoc> {
  const runPath = paths.run(run.runId);
  const now = ctx.clock.now().toISOString();
  const reopened = await ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, runPath, await tx.get(runPath));
    const event = planOf(current) ? 'resumed' : 'resumedUnplanned';
    const next = transitionRun(tx, current, event, { failure: undefined, updatedAt: now });
    return { run: next ?? current, toPlanner: next?.status === 'planning' };
  });
  if (reopened.toPlanner)
    await ctx.bus.publish(ctx.settings.topics.requests, [
      {
        data: reopened.run.request,
        attributes: { accountId: reopened.run.accountId, requestId: reopened.run.requestId },
      },
    ]);
  return reopened.run;
}

async function readExport(ctx: ExportContext, key: { accountId: string; exportId: string }) {
  const path = paths.export(exportDocId(key.accountId, key.exportId));
  const data = await ctx.state.get(path);
  return data === undefined ? undefined : parseDocument(exportDocSchema, path, data);
}

const failuresOf = (doc: ExportDoc | undefined): number => doc?.health.failures ?? 0;

/**
 * The export works again, if nothing failed while the resume worked: a failing export keeps its episode for the
 * recovery hold (a failure soon after is the same episode, not a new three days); a stopped export that is restarted
 * starts afresh. Clears the notice claim, so that a check about to stop the export loses to the customer's resume.
 */
function markRecovered(
  ctx: ExportContext,
  key: { accountId: string; exportId: string },
  failuresBefore: number,
  delivered: Delivered,
): Promise<'recovered' | 'restarted' | 'unchanged' | 'failedMeanwhile'> {
  const exportPath = paths.export(exportDocId(key.accountId, key.exportId));
  const now = ctx.clock.now();
  const updatedAt = now.toISOString();
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(exportPath);
    if (data === undefined) return 'unchanged';
    const doc = parseDocument(exportDocSchema, exportPath, data);
    const state = exportStateOf(doc);
    if (state === 'healthy') return 'unchanged';
    if (failuresOf(doc) !== failuresBefore) return 'failedMeanwhile';
    // The recovery notice is made due in the recovery's own transaction: no recovery without it.
    const recoveryNotice = recoveryNoticeFor(doc, updatedAt, {
      ...delivered,
      caughtUp: state === 'stopped' ? delivered.caughtUp : 0,
    });
    const cleared = {
      stoppedAt: null,
      stopReason: null,
      noticeClaim: null,
      updatedAt,
      ...(recoveryNotice ? { recoveryNotice } : {}),
    };
    if (state === 'stopped') {
      transitionExport(tx, exportPath, doc, 'restarted', {
        ...cleared,
        health: { failures: doc.health.failures },
        noticesSent: [],
        noticesMaybeSent: [],
      });
      return 'restarted';
    }
    const holdUntil = new Date(now.getTime() + ctx.settings.health.recoveryHoldHours * 3_600_000);
    transitionExport(tx, exportPath, doc, 'recovered', {
      ...cleared,
      health: { ...doc.health, recoveredAt: updatedAt, relapseUntil: holdUntil.toISOString() },
    });
    return 'recovered';
  });
}

/**
 * Requests held while the export was stopped, planned now in request order (by arrival): each becomes a planning run
 * for the export's destination, and its request goes to the planner again.
 */
async function heldRuns(ctx: ExportContext, key: { accountId: string; exportId: string }) {
  const held: RunDoc[] = [];
  for await (const run of runsOfExportWith(ctx, key, ['held', 'skipped'])) held.push(run);
  return held;
}

async function catchUp(
  ctx: ExportContext,
  key: { accountId: string; exportId: string },
  held: RunDoc[],
): Promise<string[]> {
  held.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  const caughtUp: string[] = [];
  const exportDoc = await readExport(ctx, key);
  if (!exportDoc || exportDoc.status === 'stopped') return caughtUp;
  for (const run of held) {
    const runPath = paths.run(run.runId);
    const planning = await ctx.state.transaction(async (tx) =>
      transitionRun(tx, parseDocument(runDocSchema, runPath, await tx.get(runPath)), 'caughtUp', {
        destinationId: exportDoc.destinationId,
        failure: undefined,
        completedAt: undefined,
        updatedAt: ctx.clock.now().toISOString(),
      }),
    );
    if (!planning) continue;
    await ctx.bus.publish(ctx.settings.topics.requests, [
      {
        data: planning.request,
        attributes: { accountId: planning.accountId, requestId: planning.requestId },
      },
    ]);
    caughtUp.push(run.runId);
  }
  if (caughtUp.length > 0) logEvent(ctx.logger, 'runsCaughtUp', { ...key, runs: caughtUp });
  return caughtUp;
}

/**
 * The destination works again: blocked runs of another destination follow the export to its current one, every
 * unfinished run continues where it stopped, then the export is healthy (or restarted, when it was stopped, and the
 * requests held meanwhile are planned). Reopened chunks are published again; their outputs are deterministic and
 * write-once, so nothing is duplicated. Safe to repeat: the export is marked healthy only after every run got its
 * tasks and only if no destination error was recorded meanwhile, so a resume that fails half-way, or whose runs
 * block again while it works, leaves the export failing, and the next check looks at it again.
 */
export async function resumeExport(
  ctx: ExportContext,
  accountId: string,
  exportId: string,
): Promise<ResumeOutcome> {
  const key = { accountId, exportId };
  const failuresBefore = failuresOf(await readExport(ctx, key));
  const outcome: ResumeOutcome = {
    runs: [],
    chunks: 0,
    finalised: [],
    moved: await moveBlockedRuns(ctx, key, { evenIfStopped: true }),
    caughtUp: [],
    recovered: false,
  };
  // Blocked runs, and running ones a failed publish or a lost message left behind.
  for await (const run of runsOfExportWith(ctx, key, ['blocked', 'running'])) {
    const step = await continueRun(ctx, await reopenRun(ctx, run));
    outcome.runs.push(run.runId);
    outcome.chunks += step.published;
    if (step.finalised) outcome.finalised.push(run.runId);
  }
  const held = await heldRuns(ctx, key);
  const marked = await markRecovered(ctx, key, failuresBefore, {
    runs: outcome.runs.length,
    chunks: outcome.chunks,
    caughtUp: held.length,
  });
  outcome.recovered = marked === 'recovered' || marked === 'restarted' || marked === 'unchanged';
  if (marked === 'restarted' || marked === 'unchanged') outcome.caughtUp = await catchUp(ctx, key, held);
  if (marked === 'recovered' || marked === 'restarted')
    logEvent(ctx.logger, 'exportRecovered', { ...key, runs: outcome.runs, chunks: outcome.chunks });
  return outcome;
}

import type { ExportContext } from '../context';
import type { ExportDoc, RunDoc } from '../documents';
import { exportDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import { exportDocId } from '../ids';
import { logEvent } from '../log-events';
import { pagesOf, runsOfExport } from '../queries';
import { continueRun } from './continue-run';

export interface ResumeOutcome {
  runs: string[];
  chunks: number;
  finalised: string[];
}

/**
 * The export's runs of the given statuses, each once, a bounded page at a time. A run that moves from one status to
 * a later one while the caller works (resume reopens a blocked run) is not yielded twice.
 */
export async function* runsOfExportWith(
  ctx: ExportContext,
  key: { accountId: string; exportId: string },
  statuses: readonly RunDoc['status'][],
): AsyncGenerator<RunDoc> {
  const seen = new Set<string>();
  for (const status of statuses) {
    const where = runsOfExport(key.accountId, key.exportId, status);
    for await (const page of pagesOf(ctx.state, 'runs', where, ctx.settings.health.checkPageSize)) {
      for (const doc of page) {
        if (seen.has(doc.id)) continue;
        seen.add(doc.id);
        yield parseDocument(runDocSchema, paths.run(doc.id), doc.data);
      }
    }
  }
}

/** A blocked run is handed back to the workers; the run as it is now (another resume may have got there first). */
function reopenRun(ctx: ExportContext, run: RunDoc): Promise<RunDoc> {
  const runPath = paths.run(run.runId);
  const now = ctx.clock.now().toISOString();
  return ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, runPath, await tx.get(runPath));
    if (current.status !== 'blocked') return current;
    const { failure: _cleared, ...rest } = current;
    const reopened: RunDoc = { ...rest, status: 'running', updatedAt: now };
    tx.set(runPath, reopened);
    return reopened;
  });
}

/**
 * The export works again. A failing export keeps its episode for the recovery hold (a failure soon after is the
 * same episode, not a new three days); a stopped export that is restarted starts afresh.
 */
function recoveredHealth(ctx: ExportContext, doc: ExportDoc): Partial<ExportDoc> {
  const now = ctx.clock.now();
  const holdUntil = new Date(now.getTime() + ctx.settings.health.recoveryHoldHours * 3_600_000);
  if (doc.status === 'stopped') return { health: { state: 'healthy' }, noticesSent: [] };
  const { relapseUntil: _old, ...episode } = doc.health;
  return {
    health: {
      ...episode,
      state: 'healthy',
      recoveredAt: now.toISOString(),
      relapseUntil: holdUntil.toISOString(),
    },
  };
}

async function markRecovered(ctx: ExportContext, accountId: string, exportId: string): Promise<boolean> {
  const exportPath = paths.export(exportDocId(accountId, exportId));
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(exportPath);
    if (data === undefined) return false;
    const doc = parseDocument(exportDocSchema, exportPath, data);
    if (doc.health.state === 'healthy' && doc.status === 'active') return false;
    tx.update(exportPath, {
      ...recoveredHealth(ctx, doc),
      status: 'active',
      stoppedAt: null,
      stopReason: null,
      noticeClaim: null,
      updatedAt: ctx.clock.now().toISOString(),
    });
    return true;
  });
}

/**
 * The destination works again: every unfinished run of the export continues where it stopped, then the export is
 * healthy. Reopened chunks are published again; their outputs are deterministic and write-once, so nothing is
 * duplicated. Safe to repeat: the export is marked healthy only after every run got its tasks, so a resume that
 * fails half-way (a publish that fails) leaves the export failing, and the next check resumes it again.
 */
export async function resumeExport(
  ctx: ExportContext,
  accountId: string,
  exportId: string,
): Promise<ResumeOutcome> {
  const outcome: ResumeOutcome = { runs: [], chunks: 0, finalised: [] };
  // Blocked runs, and running ones a failed publish or a lost message left behind.
  for await (const run of runsOfExportWith(ctx, { accountId, exportId }, ['blocked', 'running'])) {
    const step = await continueRun(ctx, await reopenRun(ctx, run));
    outcome.runs.push(run.runId);
    outcome.chunks += step.published;
    if (step.finalised) outcome.finalised.push(run.runId);
  }
  if (await markRecovered(ctx, accountId, exportId))
    logEvent(ctx.logger, 'exportRecovered', {
      accountId,
      exportId,
      runs: outcome.runs,
      chunks: outcome.chunks,
    });
  return outcome;
}

import type { BusMessage } from '../ports/bus';
import type { ExportContext } from './context';
import type { ChunkDoc, RunDoc } from './documents';
import { chunkDocSchema, exportDocSchema, parseDocument, paths, runDocSchema } from './documents';
import { exportDocId } from './ids';
import type { ChunkTask } from './plan-export';
import { loadChunks, planOf } from './run-state';

export interface ResumeOutcome {
  runs: string[];
  chunks: number;
}

/** Blocked runs of one export (a run blocks only on its destination, so they all resume together). */
async function blockedRuns(ctx: ExportContext, accountId: string, exportId: string): Promise<RunDoc[]> {
  const docs = await ctx.state.list('runs', { field: 'status', equals: 'blocked' });
  return docs
    .map((doc) => parseDocument(runDocSchema, paths.run(doc.id), doc.data))
    .filter((run) => run.accountId === accountId && run.exportId === exportId);
}

/** Hands a blocked run's chunks back to the workers; returns the chunks reopened by this call. */
async function reopenRun(ctx: ExportContext, run: RunDoc): Promise<ChunkDoc[]> {
  const plan = planOf(run);
  if (!plan) return [];
  const blocked = (await loadChunks(ctx.state, plan)).filter((chunk) => chunk.status === 'blocked');
  const now = ctx.clock.now().toISOString();
  return ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, paths.run(run.runId), await tx.get(paths.run(run.runId)));
    const reopened: ChunkDoc[] = [];
    for (const chunk of blocked) {
      const path = paths.chunk(plan, chunk.index);
      const data = await tx.get(path);
      // Another resume got here first: only chunks still blocked are reopened, and published, once.
      if (data !== undefined && parseDocument(chunkDocSchema, path, data).status === 'blocked')
        reopened.push(chunk);
    }
    for (const chunk of reopened) {
      tx.set(paths.chunk(plan, chunk.index), {
        ...Object.fromEntries(Object.entries(chunk).filter(([field]) => field !== 'failure')),
        status: 'pending',
        updatedAt: now,
      });
    }
    if (current.status === 'blocked') {
      const { failure: _cleared, ...rest } = current;
      tx.set(paths.run(run.runId), { ...rest, status: 'running', updatedAt: now });
    }
    return reopened;
  });
}

/**
 * The destination works again: every blocked run of the export continues where it stopped, and the export is healthy.
 * Reopened chunks are published again; their outputs are deterministic and write-once, so nothing is duplicated.
 */
export async function resumeExport(
  ctx: ExportContext,
  accountId: string,
  exportId: string,
): Promise<ResumeOutcome> {
  const outcome: ResumeOutcome = { runs: [], chunks: 0 };
  for (const run of await blockedRuns(ctx, accountId, exportId)) {
    const reopened = await reopenRun(ctx, run);
    const messages: BusMessage[] = reopened.map((chunk) => ({
      data: { runId: run.runId, chunk: chunk.index } satisfies ChunkTask,
      attributes: { runId: run.runId, accountId: run.accountId },
    }));
    await ctx.bus.publish(ctx.settings.topics.chunks, messages);
    outcome.runs.push(run.runId);
    outcome.chunks += messages.length;
  }
  const exportPath = paths.export(exportDocId(accountId, exportId));
  const now = ctx.clock.now().toISOString();
  await ctx.state.transaction(async (tx) => {
    const data = await tx.get(exportPath);
    if (data === undefined) return;
    const doc = parseDocument(exportDocSchema, exportPath, data);
    if (doc.health.state === 'healthy' && doc.status === 'active') return;
    tx.update(exportPath, {
      status: 'active',
      health: { state: 'healthy' },
      noticesSent: [],
      updatedAt: now,
    });
  });
  ctx.logger.info('export resumed', { accountId, exportId, runs: outcome.runs, chunks: outcome.chunks });
  return outcome;
}

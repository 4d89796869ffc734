import type { StateTransaction } from '../../ports/state-store.port';
import type { ExportContext } from '../context';
import type { ChunkDoc, RunDoc } from '../documents';
import { chunkDocSchema, exportDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import { exportDocId } from '../ids';
import { publishChunkTasks } from './chunk-tasks';
import { loadChunks, planOf } from './run-state';

export interface ResumeOutcome {
  runs: string[];
  chunks: number;
}

/**
 * Blocked runs of one export (a run blocks only on its destination, so they all resume together): a query on the
 * account and export, never a scan of every account's blocked runs.
 */
async function blockedRuns(ctx: ExportContext, accountId: string, exportId: string): Promise<RunDoc[]> {
  const docs = await ctx.state.list('runs', {
    where: [
      { field: 'accountId', equals: accountId },
      { field: 'exportId', equals: exportId },
      { field: 'status', equals: 'blocked' },
    ],
  });
  return docs.map((doc) => parseDocument(runDocSchema, paths.run(doc.id), doc.data));
}

/** Firestore commits at most 500 writes at once. */
const WRITES_PER_TRANSACTION = 400;

/**
 * Hands a blocked run back to the workers and returns every chunk that is not finished. Workers ack and skip chunk
 * tasks while their run is blocked, so pending chunks need their message again too, not only the blocked ones.
 */
async function reopenRun(ctx: ExportContext, run: RunDoc): Promise<ChunkDoc[]> {
  const plan = planOf(run);
  if (!plan) return [];
  const open = (await loadChunks(ctx.state, plan)).filter(
    (chunk) => chunk.status !== 'done' && chunk.status !== 'failed',
  );
  const blocked = open.filter((chunk) => chunk.status === 'blocked');
  const now = ctx.clock.now().toISOString();
  const runPath = paths.run(run.runId);
  const runIsBlocked = async (tx: StateTransaction) =>
    parseDocument(runDocSchema, runPath, await tx.get(runPath)).status === 'blocked';
  // Chunks first, the run last: a worker that sees the run running must also find its chunk open.
  for (let i = 0; i < blocked.length; i += WRITES_PER_TRANSACTION) {
    const batch = blocked.slice(i, i + WRITES_PER_TRANSACTION);
    await ctx.state.transaction(async (tx) => {
      if (!(await runIsBlocked(tx))) return;
      const current = [];
      for (const chunk of batch) {
        const path = paths.chunk(plan, chunk.index);
        const data = await tx.get(path);
        if (data !== undefined) current.push(parseDocument(chunkDocSchema, path, data));
      }
      for (const chunk of current) {
        if (chunk.status !== 'blocked') continue;
        const { failure: _cleared, ...rest } = chunk;
        tx.set(paths.chunk(plan, chunk.index), { ...rest, status: 'pending', updatedAt: now });
      }
    });
  }
  const won = await ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, runPath, await tx.get(runPath));
    // Another resume got here first: it publishes the chunks, and this one leaves them alone.
    if (current.status !== 'blocked') return false;
    const { failure: _cleared, ...rest } = current;
    tx.set(runPath, { ...rest, status: 'running', updatedAt: now });
    return true;
  });
  return won ? open : [];
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
    const published = await publishChunkTasks(ctx, run, await reopenRun(ctx, run));
    outcome.runs.push(run.runId);
    outcome.chunks += published;
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

import type { ExportContext } from '../context';
import type { ChunkDoc, PlanRef, RunDoc } from '../documents';
import { chunkDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import { asExportError } from '../errors';
import { publishChunkTasks } from './chunk-tasks';
import { finaliseRun } from './finalise-run';
import { transitionChunk } from '../lifecycle/write';
import { moveRun } from './move-runs';
import { blockChunk, loadChunks, loadRun, planOf } from './run-state';

export interface ContinueOutcome {
  /** Chunk tasks published again. */
  published: number;
  /** Blocked chunks handed back to the workers. */
  reopened: number;
  finalised: boolean;
}

const NOTHING: ContinueOutcome = { published: 0, reopened: 0, finalised: false };

/** Firestore commits at most 500 writes at once. */
const WRITES_PER_TRANSACTION = 400;

/** Blocked chunks of a running run become pending again (a worker acks and skips a blocked chunk's task). */
async function reopenBlockedChunks(ctx: ExportContext, plan: PlanRef, blocked: ChunkDoc[]): Promise<number> {
  const now = ctx.clock.now().toISOString();
  const runPath = paths.run(plan.runId);
  let reopened = 0;
  for (let i = 0; i < blocked.length; i += WRITES_PER_TRANSACTION) {
    const batch = blocked.slice(i, i + WRITES_PER_TRANSACTION);
    reopened += await ctx.state.transaction(async (tx) => {
      // A worker that blocked the run again meanwhile wins: its chunks wait for the next resume.
      if (parseDocument(runDocSchema, runPath, await tx.get(runPath)).status !== 'running') return 0;
      const current: ChunkDoc[] = [];
      for (const chunk of batch) {
        const path = paths.chunk(plan, chunk.index);
        const data = await tx.get(path);
        if (data !== undefined) current.push(parseDocument(chunkDocSchema, path, data));
      }
      return current.filter((chunk) =>
        transitionChunk(tx, plan, chunk, 'reopened', { failure: undefined, updatedAt: now }),
      ).length;
    });
  }
  return reopened;
}

/**
 * Finalises a run whose chunks are all done. Another worker holding the finaliser claim is finalising it already;
 * a destination refusal blocks the run like a chunk's would, so the customer hears about it and a resume retries.
 */
async function finaliseNow(ctx: ExportContext, run: RunDoc): Promise<boolean> {
  try {
    return await finaliseRun(ctx, run.runId);
  } catch (error) {
    const failure = asExportError(error);
    if (failure.code === 'finaliserBusy') return false;
    if (failure.kind === 'destination') {
      const blocked = await blockChunk(ctx.state, run, undefined, failure, ctx.clock.now());
      const current = blocked.stale ? await loadRun(ctx.state, run.runId) : undefined;
      if (current) await moveRun(ctx, current);
    }
    throw failure;
  }
}

/**
 * Drives a running run forward from whatever state a lost message, a dead worker or a failed publish left: every
 * chunk that is not done gets its task again, and a run whose chunks are all done is finalised. Safe to repeat: a
 * duplicate task costs a skip, and finalising is idempotent. The planner, resume and the hourly sweep all use it.
 */
export async function continueRun(ctx: ExportContext, run: RunDoc): Promise<ContinueOutcome> {
  const plan = planOf(run);
  if (run.status !== 'running' || !plan) return NOTHING;
  const chunks = await loadChunks(ctx.state, plan);
  const reopened = await reopenBlockedChunks(
    ctx,
    plan,
    chunks.filter((chunk) => chunk.status === 'blocked'),
  );
  if (chunks.some((chunk) => chunk.status === 'failed')) return { ...NOTHING, reopened };
  const open = chunks.filter((chunk) => chunk.status !== 'done');
  if (open.length > 0)
    return { published: await publishChunkTasks(ctx, run, open), reopened, finalised: false };
  return { ...NOTHING, finalised: await finaliseNow(ctx, run) };
}

import type { ExportContext } from '../domain/context';
import { inputError } from '../domain/errors';
import { blockRunAndReport, failRunAndReport } from '../domain/export/run-events';
import { loadRun, planOf, releaseChunk } from '../domain/export/run-state';
import type { ChunkOutcome } from '../domain/export/write-chunk';
import { writeChunk } from '../domain/export/write-chunk';
import { parseWithSchema } from '../domain/schema';
import type { Delivery } from '../ports/bus.port';
import { chunkTaskSchema } from './messages';
import { recordRejection } from './rejections';
import { settle } from './settle';

/** A chunk task (export-chunks topic): write the chunk, settle. Returning acks; throwing redelivers. */
export async function handleChunkTask(
  ctx: ExportContext,
  payload: unknown,
  delivery: Delivery,
): Promise<ChunkOutcome | undefined> {
  const parsed = parseWithSchema(chunkTaskSchema, payload);
  if (!parsed.ok) {
    await recordRejection(ctx, delivery, payload, parsed.violations);
    return undefined;
  }
  const { runId, chunk } = parsed.value;
  const log = ctx.logger.child({ runId, chunk: String(chunk) });
  try {
    return await writeChunk(ctx, runId, chunk);
  } catch (error) {
    await settle(error, log, {
      blocked: async (e) => {
        const run = await loadRun(ctx.state, runId);
        if (!run) throw inputError('runNotFound', `run ${runId} does not exist`);
        await blockRunAndReport(ctx, run, chunk, e);
      },
      failed: (e) => failRunAndReport(ctx, runId, e, chunk),
      rejected: async (e) => {
        if (e.code === 'runNotFound') return recordRejection(ctx, delivery, payload, [e.message]);
        await failRunAndReport(ctx, runId, e, chunk);
      },
      retrying: async () => {
        const plan = await loadRun(ctx.state, runId).then((run) => run && planOf(run));
        if (plan) await releaseChunk(ctx.state, plan, chunk, ctx.clock.now());
      },
    });
    return undefined;
  }
}

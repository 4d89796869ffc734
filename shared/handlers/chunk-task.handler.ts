import type { ExportContext } from '../domain/context';
import { inputError } from '../domain/errors';
import { blockChunk, failRun, loadRun, planOf, releaseChunk } from '../domain/export/run-state';
import type { ChunkOutcome } from '../domain/export/write-chunk';
import { writeChunk } from '../domain/export/write-chunk';
import { logEvent } from '../domain/log-events';
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
    const now = () => ctx.clock.now();
    await settle(error, log, {
      blocked: async (e) => {
        const run = await loadRun(ctx.state, runId);
        if (!run) throw inputError('runNotFound', `run ${runId} does not exist`);
        if (await blockChunk(ctx.state, run, chunk, e, now()))
          logEvent(log, 'exportFailing', { accountId: run.accountId, exportId: run.exportId, code: e.code });
      },
      failed: (e) => failRun(ctx.state, runId, e, now(), chunk),
      rejected: async (e) => {
        if (e.code === 'runNotFound') return recordRejection(ctx, delivery, payload, [e.message]);
        await failRun(ctx.state, runId, e, now(), chunk);
      },
      retrying: async () => {
        const plan = await loadRun(ctx.state, runId).then((run) => run && planOf(run));
        if (plan) await releaseChunk(ctx.state, plan, chunk, now());
      },
    });
    return undefined;
  }
}

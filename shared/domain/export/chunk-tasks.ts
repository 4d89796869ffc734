import type { BusMessage } from '../../ports/bus.port';
import type { ExportContext } from '../context';
import type { ChunkDoc, RunDoc } from '../documents';

/** What a chunk task carries: ids only, the slice itself lives in the state store. */
export interface ChunkTask {
  runId: string;
  chunk: number;
}

/** One task per chunk on the chunks topic; returns how many were published. */
export async function publishChunkTasks(
  ctx: ExportContext,
  run: Pick<RunDoc, 'runId' | 'accountId'>,
  chunks: readonly Pick<ChunkDoc, 'index'>[],
): Promise<number> {
  const messages: BusMessage[] = chunks.map((c) => ({
    data: { runId: run.runId, chunk: c.index } satisfies ChunkTask,
    attributes: { runId: run.runId, accountId: run.accountId },
  }));
  await ctx.bus.publish(ctx.settings.topics.chunks, messages);
  return messages.length;
}

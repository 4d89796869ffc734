import type { ExportContext } from '../domain/context';
import { failDeadLetteredChunk, failDeadLetteredRequest } from '../domain/dead-letter';
import type { RejectionDoc } from '../domain/documents';
import { paths } from '../domain/documents';
import { inputError } from '../domain/errors';
import { sha256Hex } from '../domain/ids';
import type { PlanOutcome } from '../domain/plan-export';
import { planExport } from '../domain/plan-export';
import { parseExportRequest, parseWithSchema } from '../domain/request';
import { logEvent } from '../domain/log-events';
import { blockChunkAndReport, failRunAndReport } from '../domain/run-events';
import { loadRun, planOf, releaseChunk } from '../domain/run-state';
import type { ChunkOutcome } from '../domain/write-chunk';
import { writeChunk } from '../domain/write-chunk';
import type { Delivery } from './messages';
import { chunkTaskSchema, rejectionContextSchema } from './messages';
import { settle } from './settle';

/**
 * Message handlers shared by the Cloud Functions and the local runtime: parse, call the domain, settle.
 * Returning acks the message; throwing has it redelivered.
 */

const EXCERPT_CHARS = 4096;

/** Records a rejected message once (keyed by its content), with every reason. */
async function recordRejection(
  ctx: ExportContext,
  delivery: Delivery,
  payload: unknown,
  violations: string[],
) {
  const excerpt = (JSON.stringify(payload) ?? String(payload)).slice(0, EXCERPT_CHARS);
  const context = rejectionContextSchema.parse(payload);
  const doc: RejectionDoc = {
    topic: delivery.topic,
    receivedAt: ctx.clock.now().toISOString(),
    violations,
    excerpt,
    ...(context.accountId ? { accountId: context.accountId } : {}),
    ...(context.requestId ? { requestId: context.requestId } : {}),
  };
  const created = await ctx.state.create(paths.rejection(sha256Hex(`${delivery.topic}\n${excerpt}`)), doc);
  if (created) {
    logEvent(ctx.logger, 'messageRejected', {
      topic: delivery.topic,
      messageId: delivery.messageId,
      violations,
      ...(context.accountId ? { accountId: context.accountId } : {}),
    });
  }
}

export async function handleExportRequest(
  ctx: ExportContext,
  payload: unknown,
  delivery: Delivery,
): Promise<PlanOutcome | undefined> {
  const parsed = parseExportRequest(payload);
  if (!parsed.ok) {
    await recordRejection(ctx, delivery, payload, parsed.violations);
    return undefined;
  }
  const request = parsed.value;
  const log = ctx.logger.child({ requestId: request.requestId, accountId: request.accountId });
  try {
    return await planExport(ctx, request);
  } catch (error) {
    const reject = async (e: { message: string }) => recordRejection(ctx, delivery, payload, [e.message]);
    await settle(error, log, { blocked: reject, failed: reject, rejected: reject, retrying: async () => {} });
    return undefined;
  }
}

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
        await blockChunkAndReport(ctx, run, chunk, e);
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

export async function handleDeadLetter(
  ctx: ExportContext,
  payload: unknown,
  delivery: Delivery,
): Promise<void> {
  const count = Number(delivery.attributes.CloudPubSubDeadLetterSourceDeliveryCount ?? Number.NaN);
  const attempts = Number.isFinite(count) ? count : undefined;
  // Chunk tasks and export requests share the dead-letter topic; each kind is recognised by its schema.
  const task = parseWithSchema(chunkTaskSchema, payload);
  if (task.ok) {
    await failDeadLetteredChunk(ctx, task.value.runId, task.value.chunk, attempts);
    return;
  }
  const request = parseExportRequest(payload);
  if (request.ok) {
    if (!(await failDeadLetteredRequest(ctx, request.value, attempts))) {
      await recordRejection(ctx, delivery, payload, [
        `the request could not be processed in ${attempts ?? 'the maximum number of'} delivery attempts`,
      ]);
    }
    return;
  }
  await recordRejection(ctx, delivery, payload, task.violations);
}

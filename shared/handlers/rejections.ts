import type { ExportContext } from '../domain/context';
import type { RejectionDoc } from '../domain/documents';
import { paths } from '../domain/documents';
import { sha256Hex } from '../domain/ids';
import { logEvent } from '../domain/log-events';
import type { Delivery } from '../ports/bus.port';
import { rejectionContextSchema } from './messages';

const EXCERPT_CHARS = 4096;

/** Records a rejected message once (keyed by its content), with every reason. */
export async function recordRejection(
  ctx: ExportContext,
  delivery: Delivery,
  payload: unknown,
  violations: string[],
): Promise<void> {
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
  if (created)
    logEvent(ctx.logger, 'messageRejected', {
      topic: delivery.topic,
      messageId: delivery.messageId,
      violations,
      ...(context.accountId ? { accountId: context.accountId } : {}),
    });
}

import type { ExportContext } from '../domain/context';
import type { RejectionDoc } from '../domain/documents';
import { paths } from '../domain/documents';
import { sha256Hex } from '../domain/ids';
import { logEvent } from '../domain/log-events';
import type { Delivery } from '../ports/bus.port';
import { rejectionContextSchema } from './messages';

const EXCERPT_CHARS = 4096;
/** A hostile message can carry thousands of violations, or one naming a huge key: the record keeps a bounded list. */
const MAX_VIOLATIONS = 100;
const MAX_VIOLATION_CHARS = 500;

function boundedViolations(violations: readonly string[]): string[] {
  const cut = (text: string) =>
    text.length <= MAX_VIOLATION_CHARS ? text : `${text.slice(0, MAX_VIOLATION_CHARS - 1)}…`;
  const kept = violations.slice(0, MAX_VIOLATIONS).map(cut);
  const more = violations.length - kept.length;
  return more > 0 ? [...kept, `… and ${more.toLocaleString('en-US')} more violations`] : kept;
}

/** Records a rejected message once (keyed by its content), with every reason. */
export async function recordRejection(
  ctx: ExportContext,
  delivery: Delivery,
  payload: unknown,
  allViolations: readonly string[],
): Promise<void> {
  const violations = boundedViolations(allViolations);
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

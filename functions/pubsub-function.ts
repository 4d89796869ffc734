import type { CloudEvent } from '@google-cloud/functions-framework';
import { instanceContext } from '../shared/composition/instance';
import type { ExportContext } from '../shared/domain/context';
import type { Delivery } from '../shared/handlers/messages';
import { decodePubSubEvent } from '../shared/handlers/pubsub-event';

type Handler = (ctx: ExportContext, payload: unknown, delivery: Delivery) => Promise<unknown>;

/**
 * Adapts a shared handler to a Pub/Sub-triggered function: decode, handle, and let a thrown error become the
 * HTTP 500 that makes Pub/Sub redeliver. A message that cannot be decoded is logged and acked: redelivering
 * it would never help.
 */
export function pubsubFunction(name: string, handler: Handler) {
  return async (event: CloudEvent<unknown>): Promise<void> => {
    const ctx = await instanceContext();
    const decoded = decodePubSubEvent(event);
    if (!decoded.ok) {
      ctx.logger.error('undecodable message acked', {
        function: name,
        eventId: event.id,
        reason: decoded.reason,
      });
      return;
    }
    await handler(ctx, decoded.payload, decoded.delivery);
  };
}

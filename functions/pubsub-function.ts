import type { CloudEvent } from '@google-cloud/functions-framework';
import { instanceRuntime } from '../shared/composition/instance';
import type { ServiceRuntime } from '../shared/handlers/service-runtime';
import type { Delivery } from '../shared/ports/bus.port';
import { decodePubSubEvent } from '../shared/handlers/pubsub-event';
import { traceFrom } from '../shared/adapters/json-logger';

export type PubSubHandler = (
  runtime: ServiceRuntime,
  payload: unknown,
  delivery: Delivery,
) => Promise<unknown>;

/** The runtime with a logger that carries this event's trace, so Cloud Logging groups its entries. */
function forEvent(runtime: ServiceRuntime, event: CloudEvent<unknown>, name: string): ServiceRuntime {
  const trace = traceFrom(event.traceparent, process.env.GOOGLE_CLOUD_PROJECT);
  const logger = runtime.ctx.logger.child({ function: name }, trace);
  return { ...runtime, ctx: { ...runtime.ctx, logger } };
}

/**
 * Adapts a shared handler to a Pub/Sub-triggered function: decode, handle, and let a thrown error become the
 * HTTP 500 that makes Pub/Sub redeliver. A message that cannot be decoded is logged and acked: redelivering
 * it would never help.
 */
export function pubsubFunction(name: string, handler: PubSubHandler) {
  return async (event: CloudEvent<unknown>): Promise<void> => {
    const runtime = forEvent(await instanceRuntime(), event, name);
    const decoded = decodePubSubEvent(event);
    if (!decoded.ok) {
      runtime.ctx.logger.error('undecodable message acked', { eventId: event.id, reason: decoded.reason });
      return;
    }
    await handler(runtime, decoded.payload, decoded.delivery);
  };
}

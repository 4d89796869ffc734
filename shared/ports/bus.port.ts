/** A message as it travels on a topic: JSON payload plus string attributes. */
export interface BusMessage {
  data: unknown;
  attributes?: Record<string, string>;
}

/** Publishing side of the message bus (Pub/Sub in production). Consuming is the runtime's job. */
export interface Bus {
  publish(topic: string, messages: readonly BusMessage[]): Promise<void>;
}

/** Metadata of one delivery, as much as the transport tells (Pub/Sub push carries no delivery attempt). */
export interface Delivery {
  topic: string;
  messageId: string;
  deliveryAttempt?: number;
  attributes: Record<string, string>;
}

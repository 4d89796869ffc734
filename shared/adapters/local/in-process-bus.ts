import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from '../../ports/bus.port';
import type { Delivery } from '../../ports/bus.port';

export type MessageHandler = (payload: unknown, delivery: Delivery) => Promise<unknown>;

export interface SubscriptionOptions {
  /** Like Pub/Sub's dead-letter policy: after this many failed deliveries the message goes to deadLetterTopic. */
  maxDeliveryAttempts: number;
  deadLetterTopic?: string;
}

export interface InProcessBusOptions {
  /** Deliveries in flight at once, across all subscriptions. */
  concurrency?: number;
  /** Delay before a failed message is redelivered (ms); doubles per attempt up to 1 s. */
  retryDelayMs?: number;
  /** Test hooks: deliver every message this many extra times, and pick the next delivery at random. */
  extraDeliveries?: number;
  random?: () => number;
}

interface Subscription {
  topic: string;
  handler: MessageHandler;
  options: SubscriptionOptions;
}

interface QueuedDelivery {
  subscription: Subscription;
  messageId: string;
  data: unknown;
  attributes: Record<string, string>;
  attempts: number;
}

export interface BusEvents {
  acked: [topic: string, delivery: Delivery, result: unknown];
  nacked: [topic: string, delivery: Delivery, error: unknown];
  deadLettered: [topic: string, delivery: Delivery];
}

/**
 * Pub/Sub's delivery contract in one process: at-least-once, redelivery with backoff on failure, dead-lettering
 * after maxDeliveryAttempts (with the same CloudPubSubDeadLetter* attributes), and JSON on the wire.
 */
export class InProcessBus extends EventEmitter<BusEvents> implements Bus {
  private readonly subscriptions: Subscription[] = [];
  private readonly queue: QueuedDelivery[] = [];
  private inFlight = 0;
  private scheduled = 0;
  private idleWaiters: (() => void)[] = [];
  /** Every message published, per topic, as it went on the wire. */
  readonly published = new Map<string, BusMessage[]>();

  constructor(private readonly options: InProcessBusOptions = {}) {
    super();
  }

  subscribe(topic: string, handler: MessageHandler, options: SubscriptionOptions): void {
    this.subscriptions.push({ topic, handler, options });
  }

  publish(topic: string, messages: readonly BusMessage[]): Promise<void> {
    for (const message of messages) {
      const wire = {
        data: JSON.parse(JSON.stringify(message.data)) as unknown,
        attributes: { ...message.attributes },
      };
      this.published.set(topic, [...(this.published.get(topic) ?? []), wire]);
      const messageId = randomUUID();
      for (const subscription of this.subscriptions.filter((s) => s.topic === topic)) {
        for (let copy = 0; copy <= (this.options.extraDeliveries ?? 0); copy += 1) {
          this.queue.push({
            subscription,
            messageId,
            data: wire.data,
            attributes: wire.attributes,
            attempts: 0,
          });
        }
      }
    }
    this.pump();
    return Promise.resolve();
  }

  /** Resolves when no delivery is queued, running or waiting for a retry. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0 && this.scheduled === 0;
  }

  private next(): QueuedDelivery | undefined {
    if (!this.options.random) return this.queue.shift();
    const index = Math.floor(this.options.random() * this.queue.length);
    return this.queue.splice(index, 1)[0];
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 4;
    while (this.inFlight < limit) {
      const item = this.next();
      if (!item) break;
      this.inFlight += 1;
      void this.deliver(item).finally(() => {
        this.inFlight -= 1;
        this.pump();
        this.notifyIfIdle();
      });
    }
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async deliver(item: QueuedDelivery): Promise<void> {
    item.attempts += 1;
    const { topic, handler, options } = item.subscription;
    const delivery: Delivery = {
      topic,
      messageId: item.messageId,
      deliveryAttempt: item.attempts,
      attributes: item.attributes,
    };
    try {
      const result = await handler(item.data, delivery);
      this.emit('acked', topic, delivery, result);
    } catch (error) {
      this.emit('nacked', topic, delivery, error);
      if (item.attempts >= options.maxDeliveryAttempts) {
        this.emit('deadLettered', topic, delivery);
        if (options.deadLetterTopic) {
          await this.publish(options.deadLetterTopic, [
            {
              data: item.data,
              attributes: {
                ...item.attributes,
                CloudPubSubDeadLetterSourceDeliveryCount: String(item.attempts),
                CloudPubSubDeadLetterSourceSubscription: `${topic}-sub`,
              },
            },
          ]);
        }
        return;
      }
      this.redeliverLater(item);
    }
  }

  private redeliverLater(item: QueuedDelivery): void {
    const base = this.options.retryDelayMs ?? 10;
    const delay = Math.min(base * 2 ** (item.attempts - 1), 1000);
    this.scheduled += 1;
    setTimeout(() => {
      this.scheduled -= 1;
      this.queue.push(item);
      this.pump();
      this.notifyIfIdle();
    }, delay);
  }
}

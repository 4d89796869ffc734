import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { Bus, BusMessage } from '../../ports/bus.port';

/** Small batches keep latency low for one request while a planner's thousands of chunk messages share RPCs. */
const BATCHING = { maxMessages: 500, maxMilliseconds: 10, maxBytes: 5 * 1024 * 1024 };

/** Publishing on Pub/Sub; consuming is done by the functions, through push subscriptions. */
export class PubSubBus implements Bus {
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly pubsub: PubSub) {}

  /** The underlying client, for administration in tools and tests. */
  get client(): PubSub {
    return this.pubsub;
  }

  private topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = this.pubsub.topic(name, { batching: BATCHING });
      this.topics.set(name, topic);
    }
    return topic;
  }

  async publish(topicName: string, messages: readonly BusMessage[]): Promise<void> {
    const topic = this.topic(topicName);
    // Every publish is awaited: a handler that returns has handed all its messages to Pub/Sub.
    await Promise.all(
      messages.map((message) =>
        topic.publishMessage({
          data: Buffer.from(JSON.stringify(message.data)),
          ...(message.attributes ? { attributes: message.attributes } : {}),
        }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((topic) => topic.flush()));
    await this.pubsub.close();
  }
}

import type { PubSub } from '@google-cloud/pubsub';
import { DEFAULT_SETTINGS } from '../../shared/domain/context';

export interface PushTargets {
  /** Base URL of the function serving each topic. */
  planExport: string;
  writeChunk: string;
  deadLetter: string;
}

export const TOPICS = DEFAULT_SETTINGS.topics;

/**
 * Topics and push subscriptions wired the way Terraform wires them: requests → planExport and chunks → writeChunk,
 * each with a retry policy and a dead-letter policy, dead letters → deadLetter. Push endpoints have the form
 * /projects/P/topics/T so that the Functions Framework puts the topic into the CloudEvent's source.
 */
export async function wireLikeTerraform(
  pubsub: PubSub,
  projectId: string,
  targets: PushTargets,
  maxDeliveryAttempts: number,
): Promise<void> {
  for (const topic of Object.values(TOPICS)) await pubsub.createTopic(topic);
  const retryPolicy = { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 4 } };
  const push = (base: string, topic: string) => ({
    pushEndpoint: `${base}/projects/${projectId}/topics/${topic}`,
  });
  const deadLetterPolicy = { deadLetterTopic: pubsub.topic(TOPICS.deadLetter).name, maxDeliveryAttempts };
  await pubsub.topic(TOPICS.requests).createSubscription(`${TOPICS.requests}-push`, {
    pushConfig: push(targets.planExport, TOPICS.requests),
    ackDeadlineSeconds: 60,
    retryPolicy,
    deadLetterPolicy,
  });
  await pubsub.topic(TOPICS.chunks).createSubscription(`${TOPICS.chunks}-push`, {
    pushConfig: push(targets.writeChunk, TOPICS.chunks),
    ackDeadlineSeconds: 60,
    retryPolicy,
    deadLetterPolicy,
  });
  await pubsub.topic(TOPICS.deadLetter).createSubscription(`${TOPICS.deadLetter}-push`, {
    pushConfig: push(targets.deadLetter, TOPICS.deadLetter),
    ackDeadlineSeconds: 60,
    retryPolicy,
  });
}

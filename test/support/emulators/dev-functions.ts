import { randomBytes } from 'node:crypto';
import type { PubSub, Subscription } from '@google-cloud/pubsub';
import type { HostedFunction } from '../functions-host';
import { hostFunction } from '../functions-host';
import type { EntryPoint } from '../../../functions/entry-points';
import { ENTRY_POINTS } from '../../../functions/entry-points';
import { envOf } from '../function-env';
export { buildFunctions, REPO_ROOT } from '../functions-host';
import { TOPICS, wireLikeTerraform } from '../pubsub-wiring';

// The functions of `npm run dev:emulators`: built as Cloud Functions deploys them, run under the real Functions
// Framework, and fed by push subscriptions wired as Terraform wires them.

export const QUARANTINE_BUCKET = 'demo-platform-quarantine';
export const FAILURE_CHECK_TOPIC = 'failure-check';
export const MAX_DELIVERY_ATTEMPTS = 5;
// Production sizes, except chunks: 2 MiB makes a few chunks of the demo source (about 8 MiB uncompressed).
const CHUNK_TARGET_BYTES = 2 * 1024 * 1024;

/** What each function instance reads at cold start, as Terraform sets it, plus the emulator hosts. */
export function devFunctionEnv(up: {
  project: string;
  firestoreHost: string;
  pubsubHost: string;
  storageUrl: string;
  /** The api's bearer token (the emulated setup has no Google ID tokens). */
  apiToken: string;
  /** Where the platform's sources lie (SOURCE_PREFIX_TEMPLATE). */
  sourceScope: string;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FIRESTORE_EMULATOR_HOST: up.firestoreHost,
    PUBSUB_EMULATOR_HOST: up.pubsubHost,
    STORAGE_EMULATOR_HOST: up.storageUrl,
    METADATA_SERVER_DETECTION: 'none',
    GCS_EXPORT_ADAPTERS: 'gcp',
    GOOGLE_CLOUD_PROJECT: up.project,
    // One key-encryption key per dev run, shared by every function.
    GCS_EXPORT_KEK: randomBytes(32).toString('base64'),
    QUARANTINE_BUCKET,
    SOURCE_PREFIX_TEMPLATE: up.sourceScope,
    GCS_EXPORT_API_TOKEN: up.apiToken,
    LOG_LEVEL: 'info',
    MAX_DELIVERY_ATTEMPTS: String(MAX_DELIVERY_ATTEMPTS),
    CHUNK_TARGET_BYTES: String(CHUNK_TARGET_BYTES),
  };
}

export type DevFunctions = Record<EntryPoint, HostedFunction>;

/**
 * Starts every function in parallel. `started` receives each one as soon as it runs, so that a shutdown stops it
 * even when another one fails to start.
 */
export async function startFunctions(
  env: NodeJS.ProcessEnv,
  started: (fn: HostedFunction) => void,
): Promise<DevFunctions> {
  const targets = Object.keys(ENTRY_POINTS) as EntryPoint[];
  const settled = await Promise.allSettled(
    targets.map(async (target) => {
      const fn = await hostFunction(target, ENTRY_POINTS[target].signature, envOf(target, env));
      started(fn);
      return fn;
    }),
  );
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  const hosted = settled.map((result) => (result as PromiseFulfilledResult<HostedFunction>).value);
  return Object.fromEntries(hosted.map((fn) => [fn.target, fn])) as DevFunctions;
}

const grpcCode = (error: unknown): unknown => (error as { code?: unknown }).code;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

async function deleteIfPresent(subscription: Subscription): Promise<void> {
  try {
    await subscription.delete();
  } catch (error) {
    if (grpcCode(error) !== NOT_FOUND) throw error;
  }
}

/**
 * Topics and push subscriptions to the functions: the three of the pipeline as Terraform wires them, and the hourly
 * `failure-check` topic (Cloud Scheduler's) pushing to checkFailures. A reused emulator may hold an earlier run's
 * wiring, pushing to functions that are gone: it is replaced. Returns whether there was one.
 */
export async function wireTopics(pubsub: PubSub, project: string, functions: DevFunctions): Promise<boolean> {
  const pipeline = Object.values(TOPICS);
  const present = await Promise.all(pipeline.map(async (topic) => (await pubsub.topic(topic).exists())[0]));
  const reused = present.some(Boolean);
  if (reused) {
    await Promise.all(pipeline.map((topic) => deleteIfPresent(pubsub.subscription(`${topic}-push`))));
    await Promise.all(pipeline.filter((_, i) => present[i]).map((topic) => pubsub.topic(topic).delete()));
  }
  await wireLikeTerraform(
    pubsub,
    project,
    {
      planExport: functions.planExport.url,
      writeChunk: functions.writeChunk.url,
      deadLetter: functions.deadLetter.url,
    },
    MAX_DELIVERY_ATTEMPTS,
  );

  try {
    await pubsub.createTopic(FAILURE_CHECK_TOPIC);
  } catch (error) {
    if (grpcCode(error) !== ALREADY_EXISTS) throw error;
  }
  const subscription = `${FAILURE_CHECK_TOPIC}-push`;
  await deleteIfPresent(pubsub.subscription(subscription));
  await pubsub.topic(FAILURE_CHECK_TOPIC).createSubscription(subscription, {
    pushConfig: {
      pushEndpoint: `${functions.checkFailures.url}/projects/${project}/topics/${FAILURE_CHECK_TOPIC}`,
    },
    ackDeadlineSeconds: 60,
  });
  return reused;
}

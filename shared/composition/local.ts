import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { AesGcmCipher } from '../adapters/crypto/aes-gcm-cipher';
import type { CallerVerifier } from '../ports/api-callers.port';
import { callerVerifier } from './callers';
import { systemClock } from '../adapters/clocks';
import type { InProcessBusOptions } from '../adapters/local/in-process-bus';
import { InProcessBus } from '../adapters/local/in-process-bus';
import { LocalBucketStore } from '../adapters/local/local-bucket-store';
import { LocalPrincipals } from '../adapters/local/local-principals';
import { LocalQuarantine } from '../adapters/local/local-quarantine';
import { MemoryStateStore } from '../adapters/local/memory-state-store';
import { OutboxMailer } from '../adapters/local/outbox-mailer';
import { OutboxWebhookSender } from '../adapters/local/outbox-webhook-sender';
import type { WebhookSender } from '../ports/webhook-sender.port';
import type { WebhookRetry } from '../domain/notify/send-webhook';
import type { AddressPolicy } from '../domain/notify/webhook-url';
import { blockProcessorFor } from '../adapters/threads/piscina-block-processor';
import { tuneHeapGrowing } from './heap';
import type { Config } from '../config';
import type { ExportContext } from '../domain/context';
import type { DestinationDeps } from '../domain/destinations/manage-destinations';
import type { FailureCheckOutcome } from '../domain/health/check-failing-exports';
import { handleCheckFailures } from '../handlers/check-failures.handler';
import { handleChunkTask } from '../handlers/chunk-task.handler';
import type { ServiceRuntime } from '../handlers/service-runtime';
import { handleDeadLetter } from '../handlers/dead-letter.handler';
import { handleExportRequest } from '../handlers/export-request.handler';
import { JsonLogger } from '../adapters/json-logger';
import type { BucketStore } from '../ports/bucket-store.port';
import type { Clock } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';

export interface LocalRuntimeOptions {
  config: Config;
  dataDir: string;
  clock?: Clock;
  logger?: Logger;
  bus?: InProcessBusOptions;
  /** Keep state in `{dataDir}/state.json` so that separate commands share it (the CLI); tests keep it in memory. */
  persistState?: boolean;
  /** Who may call the API (`gcs-export serve` passes its token); by default what the configuration names. */
  callers?: CallerVerifier;
  /** Test hook: wraps the destination store, e.g. to inject faults. */
  wrapDestination?: (store: BucketStore) => BucketStore;
  /** Worker threads for blocks of records (the CLI passes config.blockThreads); tests keep them on one thread. */
  blockThreads?: number;
  /** Test hooks: how webhook hosts resolve (a table instead of DNS), another sender, a shorter backoff. */
  resolveHost?: (hostname: string) => Promise<string[]>;
  webhookSender?: WebhookSender;
  webhookRetry?: WebhookRetry;
}

export interface LocalRuntime {
  ctx: ExportContext;
  bus: InProcessBus;
  state: MemoryStateStore;
  buckets: LocalBucketStore;
  /** The accounts' principals (grant destinations act as them in the local buckets). */
  principals: LocalPrincipals;
  quarantine: LocalQuarantine;
  mailer: OutboxMailer;
  /** Webhook requests are written to `{dataDir}/webhooks` unless a test gave another sender. */
  webhooks: {
    sender: WebhookSender;
    outbox: OutboxWebhookSender;
    policy: AddressPolicy;
    retry?: WebhookRetry;
  };
  destinationDeps: DestinationDeps;
  callers: CallerVerifier;
  dataDir: string;
  /**
   * Fires the hourly failure check the way Cloud Scheduler does (a message on the failure-check topic), waits until
   * it and everything it started (resumed chunks) have settled, and returns what the check did.
   */
  fireCheck(): Promise<FailureCheckOutcome>;
  close(): Promise<void>;
}

/** A local key-encryption key, created on first use and readable by its owner only. */
async function localKeyEncryptionKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, 'kek.key');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, key.toString('base64'), { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return key;
}

/**
 * Makes `key` the data folder's own key-encryption key (after `keys rewrap` under a new GCS_EXPORT_KEK), replacing
 * the file atomically, readable by its owner only.
 */
export async function saveLocalKeyEncryptionKey(dataDir: string, key: Buffer): Promise<void> {
  const file = path.join(dataDir, 'kek.key');
  const temporary = `${file}.${randomUUID()}`;
  await writeFile(temporary, key.toString('base64'), { mode: 0o600, flag: 'wx' });
  await rename(temporary, file);
}

/**
 * The composition root of local runs: every port backed by the embedded adapters, and the bus subscriptions
 * wired exactly as Terraform wires Pub/Sub to the functions.
 */
export async function createLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  tuneHeapGrowing();
  const { config, dataDir } = options;
  const clock = options.clock ?? systemClock;
  const logger =
    options.logger ??
    new JsonLogger({ level: config.logLevel, write: (line) => process.stderr.write(`${line}\n`) });
  const state = new MemoryStateStore(options.persistState ? path.join(dataDir, 'state.json') : undefined);
  const buckets = new LocalBucketStore(path.join(dataDir, 'buckets'));
  const wrap = options.wrapDestination ?? ((store: BucketStore) => store);
  const destinationStore = wrap(buckets);
  // A grant destination acts as its account's principal: the bucket's IAM policy decides what it may do.
  const principalStores = new Map<string, BucketStore>();
  const storeOf = (destination: { grant?: { principal: string } | undefined }): BucketStore => {
    const principal = destination.grant?.principal;
    if (principal === undefined) return destinationStore;
    let store = principalStores.get(principal);
    if (!store) principalStores.set(principal, (store = wrap(buckets.actingAs(principal))));
    return store;
  };
  const principals = new LocalPrincipals(clock);
  const quarantine = new LocalQuarantine(path.join(dataDir, 'quarantine'));
  const bus = new InProcessBus({ concurrency: config.localConcurrency, ...options.bus });
  const mailer = new OutboxMailer(path.join(dataDir, 'outbox'), clock, config.mailFrom);
  const policy = config.webhookPolicy;
  const outbox = new OutboxWebhookSender(path.join(dataDir, 'webhooks'), clock, {
    policy,
    ...(options.resolveHost ? { resolve: options.resolveHost } : {}),
  });
  const webhooks = {
    sender: options.webhookSender ?? outbox,
    outbox,
    policy,
    ...(options.webhookRetry ? { retry: options.webhookRetry } : {}),
  };
  // GCS_EXPORT_KEK (and its previous keys) override the folder's own key, e.g. to rotate it.
  const keys = config.keyEncryptionKeys ?? { current: await localKeyEncryptionKey(dataDir), previous: [] };
  const cipher = new AesGcmCipher(keys.current, keys.previous);
  const blocks = blockProcessorFor(options.blockThreads ?? 0);
  const ctx: ExportContext = {
    state,
    source: buckets,
    destinations: { forDestination: (destination) => Promise.resolve(storeOf(destination)) },
    quarantine,
    bus,
    clock,
    logger,
    settings: config.settings,
    instanceId: `local-${randomUUID().slice(0, 8)}`,
    ...(blocks ? { blocks } : {}),
  };
  const { topics } = config.settings;
  const attempts = config.maxDeliveryAttempts;
  bus.subscribe(topics.requests, (payload, delivery) => handleExportRequest(ctx, payload, delivery), {
    maxDeliveryAttempts: attempts,
    deadLetterTopic: topics.deadLetter,
  });
  bus.subscribe(topics.chunks, (payload, delivery) => handleChunkTask(ctx, payload, delivery), {
    maxDeliveryAttempts: attempts,
    deadLetterTopic: topics.deadLetter,
  });
  bus.subscribe(topics.deadLetter, (payload, delivery) => handleDeadLetter(ctx, payload, delivery), {
    maxDeliveryAttempts: attempts,
  });
  const destinationDeps: DestinationDeps = {
    state,
    cipher,
    clock,
    storeFor: (destination) => Promise.resolve(storeOf(destination)),
    principals: { directory: principals, projects: config.principalsProjects },
  };
  const close = async () => {
    await bus.drain();
    await state.flush();
    await blocks?.close();
  };
  const callers = options.callers ?? callerVerifier(config.api);
  const service: ServiceRuntime = { ctx, destinationDeps, mailer, webhooks, callers, close };
  bus.subscribe(topics.failureCheck, (payload, delivery) => handleCheckFailures(service, payload, delivery), {
    maxDeliveryAttempts: attempts,
  });
  return {
    ctx,
    bus,
    state,
    buckets,
    principals,
    quarantine,
    mailer,
    webhooks,
    dataDir,
    callers,
    destinationDeps,
    fireCheck: () => fireCheck(bus, topics.failureCheck),
    close,
  };
}

async function fireCheck(bus: InProcessBus, topic: string): Promise<FailureCheckOutcome> {
  let outcome: FailureCheckOutcome | undefined;
  const onAck = (acked: string, _delivery: unknown, result: unknown) => {
    if (acked === topic) outcome = result as FailureCheckOutcome;
  };
  bus.on('acked', onAck);
  try {
    await bus.publish(topic, [{ data: {} }]);
    await bus.drain();
  } finally {
    bus.off('acked', onAck);
  }
  if (!outcome) throw new Error('the failure check did not complete; see the logs');
  return outcome;
}

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { AesGcmCipher } from '../adapters/crypto/aes-gcm-cipher';
import { systemClock } from '../adapters/clocks';
import type { InProcessBusOptions } from '../adapters/local/in-process-bus';
import { InProcessBus } from '../adapters/local/in-process-bus';
import { LocalBucketStore } from '../adapters/local/local-bucket-store';
import { LocalQuarantine } from '../adapters/local/local-quarantine';
import { MemoryStateStore } from '../adapters/local/memory-state-store';
import { OutboxMailer } from '../adapters/local/outbox-mailer';
import { blockProcessorFor } from '../adapters/threads/piscina-block-processor';
import type { Config } from '../config';
import type { ExportContext } from '../domain/context';
import type { DestinationDeps } from '../domain/destinations/manage-destinations';
import { handleChunkTask } from '../handlers/chunk-task.handler';
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
  /** Test hook: wraps the destination store, e.g. to inject faults. */
  wrapDestination?: (store: BucketStore) => BucketStore;
  /** Worker threads for blocks of records (the CLI passes config.blockThreads); tests keep them on one thread. */
  blockThreads?: number;
}

export interface LocalRuntime {
  ctx: ExportContext;
  bus: InProcessBus;
  state: MemoryStateStore;
  buckets: LocalBucketStore;
  quarantine: LocalQuarantine;
  mailer: OutboxMailer;
  destinationDeps: DestinationDeps;
  dataDir: string;
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
 * The composition root of local runs: every port backed by the embedded adapters, and the bus subscriptions
 * wired exactly as Terraform wires Pub/Sub to the functions.
 */
export async function createLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { config, dataDir } = options;
  const clock = options.clock ?? systemClock;
  const logger =
    options.logger ??
    new JsonLogger({ level: config.logLevel, write: (line) => process.stderr.write(`${line}\n`) });
  const state = new MemoryStateStore(options.persistState ? path.join(dataDir, 'state.json') : undefined);
  const buckets = new LocalBucketStore(path.join(dataDir, 'buckets'));
  const destinationStore = options.wrapDestination ? options.wrapDestination(buckets) : buckets;
  const quarantine = new LocalQuarantine(path.join(dataDir, 'quarantine'));
  const bus = new InProcessBus({ concurrency: config.localConcurrency, ...options.bus });
  const mailer = new OutboxMailer(path.join(dataDir, 'outbox'), clock);
  const cipher = new AesGcmCipher(await localKeyEncryptionKey(dataDir));
  const blocks = blockProcessorFor(options.blockThreads ?? 0);
  const ctx: ExportContext = {
    state,
    source: buckets,
    destinations: { forDestination: () => Promise.resolve(destinationStore) },
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
  return {
    ctx,
    bus,
    state,
    buckets,
    quarantine,
    mailer,
    dataDir,
    destinationDeps: { state, cipher, clock, storeFor: () => Promise.resolve(destinationStore) },
    close: async () => {
      await bus.drain();
      await state.flush();
      await blocks?.close();
    },
  };
}

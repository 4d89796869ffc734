import { z } from './domain/zod';
import type { ExportSettings } from './domain/context';
import { DEFAULT_SETTINGS } from './domain/context';
import { formatIssues } from './domain/request';
import { LOG_LEVELS } from './logger';

const bytes = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z][\w.~%+-]{2,254}$/, 'is not a valid topic name')
    .default(fallback);

/** Every environment variable the service reads, with its default. Read once, at cold start. */
const envSchema = z.object({
  // 'gcp' (Firestore, Pub/Sub, Storage, SendGrid) is added with the Google Cloud adapters.
  GCS_EXPORT_ADAPTERS: z.enum(['local']).default('local'),
  GCS_EXPORT_DATA_DIR: z.string().min(1).default('.gcs-export'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  CHUNK_TARGET_BYTES: bytes(DEFAULT_SETTINGS.chunkTargetBytes, 64 * 1024),
  MAX_PART_BYTES: bytes(DEFAULT_SETTINGS.maxPartBytes, 64 * 1024),
  MAX_OPEN_PARTS: z.coerce.number().int().min(1).max(1024).default(DEFAULT_SETTINGS.maxOpenParts),
  MAX_LINE_BYTES: bytes(DEFAULT_SETTINGS.maxLineBytes, 1024),
  FINALISER_LEASE_SECONDS: z.coerce.number().int().min(10).default(DEFAULT_SETTINGS.finaliserLeaseSeconds),
  MAX_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  LOCAL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  EXPORT_REQUESTS_TOPIC: topic(DEFAULT_SETTINGS.topics.requests),
  EXPORT_CHUNKS_TOPIC: topic(DEFAULT_SETTINGS.topics.chunks),
  EXPORT_DEAD_LETTER_TOPIC: topic(DEFAULT_SETTINGS.topics.deadLetter),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  adapters: Env['GCS_EXPORT_ADAPTERS'];
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  settings: ExportSettings;
  maxDeliveryAttempts: number;
  localConcurrency: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Fails with every invalid variable named, instead of a confusing error on first use. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as they do in Terraform and shell exports.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n  ${formatIssues(parsed.error.issues).join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    adapters: e.GCS_EXPORT_ADAPTERS,
    dataDir: e.GCS_EXPORT_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    maxDeliveryAttempts: e.MAX_DELIVERY_ATTEMPTS,
    localConcurrency: e.LOCAL_CONCURRENCY,
    settings: {
      chunkTargetBytes: e.CHUNK_TARGET_BYTES,
      maxPartBytes: e.MAX_PART_BYTES,
      maxOpenParts: e.MAX_OPEN_PARTS,
      maxLineBytes: e.MAX_LINE_BYTES,
      finaliserLeaseSeconds: e.FINALISER_LEASE_SECONDS,
      topics: {
        requests: e.EXPORT_REQUESTS_TOPIC,
        chunks: e.EXPORT_CHUNKS_TOPIC,
        deadLetter: e.EXPORT_DEAD_LETTER_TOPIC,
      },
    },
  };
}

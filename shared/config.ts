import os from 'node:os';
import { z } from './domain/zod';
import type { ExportSettings } from './domain/context';
import { DEFAULT_SETTINGS } from './domain/context';
import { formatIssues } from './domain/schema';
import { LOG_LEVELS } from './ports/logger.port';
import { bucketNameSchema } from './domain/source/gcs-uri';

/**
 * Every open part holds up to this much in memory (the head it may send in one request, then the chunk the client
 * keeps so it can retry it), so a worker's upload buffers stay under MAX_OPEN_PARTS × 2 MiB.
 */
export const DEFAULT_UPLOAD_OPTIONS = {
  resumableThresholdBytes: 2 * 1024 * 1024,
  resumableChunkBytes: 2 * 1024 * 1024,
};

/** The Storage client's retries: backoff capped at maxRetryDelaySeconds, one call given up after the total. */
export const DEFAULT_STORAGE_RETRY = {
  maxRetries: 5,
  maxRetryDelaySeconds: 32,
  totalTimeoutSeconds: 300,
};

const bytes = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .transform((value) => value === 'true' || value === '1')
    .default(fallback);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z][\w.~%+-]{2,254}$/, 'is not a valid topic name')
    .default(fallback);

/**
 * Every environment variable the service reads, with its default. Read once, at cold start. Exported for the
 * Terraform drift test, which checks that the deployment sets exactly these.
 */
export const envSchema = z.object({
  /** local: embedded adapters under GCS_EXPORT_DATA_DIR; gcp: Firestore, Pub/Sub, Cloud Storage, SendGrid. */
  GCS_EXPORT_ADAPTERS: z.enum(['local', 'gcp']).default('local'),
  GCS_EXPORT_DATA_DIR: z.string().min(1).default('.gcs-export'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  CHUNK_TARGET_BYTES: bytes(DEFAULT_SETTINGS.chunkTargetBytes, 64 * 1024),
  MAX_PART_BYTES: bytes(DEFAULT_SETTINGS.maxPartBytes, 64 * 1024),
  MAX_OPEN_PARTS: z.coerce.number().int().min(1).max(1024).default(DEFAULT_SETTINGS.maxOpenParts),
  MAX_LINE_BYTES: bytes(DEFAULT_SETTINGS.maxLineBytes, 1024),
  FINALISER_LEASE_SECONDS: z.coerce.number().int().min(10).default(DEFAULT_SETTINGS.finaliserLeaseSeconds),
  // Pub/Sub's dead-letter policy accepts 5 to 100 delivery attempts; local runs keep the same bounds.
  MAX_DELIVERY_ATTEMPTS: z.coerce.number().int().min(5).max(100).default(5),
  LOCAL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Worker threads that process blocks of records; 0 keeps the work on the main thread. Default: one per vCPU. */
  BLOCK_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  EXPORT_REQUESTS_TOPIC: topic(DEFAULT_SETTINGS.topics.requests),
  EXPORT_CHUNKS_TOPIC: topic(DEFAULT_SETTINGS.topics.chunks),
  EXPORT_DEAD_LETTER_TOPIC: topic(DEFAULT_SETTINGS.topics.deadLetter),
  // Google Cloud (GCS_EXPORT_ADAPTERS=gcp); the ones marked required there are checked below.
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'is not a valid project id')
    .optional(),
  FIRESTORE_DATABASE_ID: z.string().min(1).default('(default)'),
  // Firestore's TTL policy deletes runs, chunks and rejections this long after they were last written whole. At
  // least a week: a blocked run must outlive the three days of failure notices before its export is stopped.
  STATE_RETENTION_DAYS: z.coerce.number().int().min(7).max(3650).default(90),
  /** Base64 of the 32-byte key-encryption key (a Secret Manager secret in production). */
  GCS_EXPORT_KEK: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be base64 of exactly 32 bytes')
    .optional(),
  QUARANTINE_BUCKET: bucketNameSchema.optional(),
  STORAGE_RESUMABLE_THRESHOLD_BYTES: bytes(DEFAULT_UPLOAD_OPTIONS.resumableThresholdBytes, 64 * 1024),
  STORAGE_RESUMABLE_CHUNK_BYTES: bytes(DEFAULT_UPLOAD_OPTIONS.resumableChunkBytes, 256 * 1024).refine(
    (value) => value % (256 * 1024) === 0,
    'must be a multiple of 262144 (256 KiB), as Cloud Storage requires',
  ),
  STORAGE_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(DEFAULT_STORAGE_RETRY.maxRetries),
  STORAGE_MAX_RETRY_DELAY_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_STORAGE_RETRY.maxRetryDelaySeconds),
  STORAGE_RETRY_TOTAL_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_STORAGE_RETRY.totalTimeoutSeconds),
  SENDGRID_API_KEY: z.string().min(1).optional(),
  SENDGRID_API_BASE_URL: z.url().optional(),
  SENDGRID_SANDBOX: flag(false),
  MAIL_FROM: z.email().default('exports@gcs-export.invalid'),
  MAIL_FROM_NAME: z.string().min(1).default('Data exports'),
});

export const REQUIRED_FOR_GCP = ['GOOGLE_CLOUD_PROJECT', 'GCS_EXPORT_KEK', 'QUARANTINE_BUCKET'] as const;

const configSchema = envSchema.superRefine((env, ctx) => {
  if (env.GCS_EXPORT_ADAPTERS !== 'gcp') return;
  for (const name of REQUIRED_FOR_GCP) {
    if (env[name] === undefined)
      ctx.addIssue({ code: 'custom', path: [name], message: 'is required when GCS_EXPORT_ADAPTERS=gcp' });
  }
});

export type Env = z.infer<typeof envSchema>;

export interface GcpConfig {
  projectId: string;
  firestoreDatabaseId: string;
  stateRetentionDays: number;
  keyEncryptionKey: Buffer;
  quarantineBucket: string;
  upload: typeof DEFAULT_UPLOAD_OPTIONS;
  storageRetry: typeof DEFAULT_STORAGE_RETRY;
  /** Absent when no SendGrid key is configured: only the functions that send e-mail require it. */
  sendGrid?: { apiKey: string; baseUrl?: string; sandbox: boolean };
  mailFrom: { email: string; name: string };
}

export interface Config {
  adapters: Env['GCS_EXPORT_ADAPTERS'];
  /** Present exactly when `adapters` is 'gcp'. */
  gcp?: GcpConfig;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  settings: ExportSettings;
  maxDeliveryAttempts: number;
  localConcurrency: number;
  /** Worker threads for blocks of records (0: the main thread does the work). */
  blockThreads: number;
}

/** One worker thread per vCPU; none on a single vCPU, where a thread would only add hand-over costs. */
function defaultBlockThreads(): number {
  const cpus = os.availableParallelism();
  return cpus > 1 ? cpus : 0;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Fails with every invalid variable named, instead of a confusing error on first use. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as they do in Terraform and shell exports.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n  ${formatIssues(parsed.error.issues).join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    adapters: e.GCS_EXPORT_ADAPTERS,
    ...(e.GCS_EXPORT_ADAPTERS === 'gcp' ? { gcp: gcpConfig(e) } : {}),
    dataDir: e.GCS_EXPORT_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    maxDeliveryAttempts: e.MAX_DELIVERY_ATTEMPTS,
    localConcurrency: e.LOCAL_CONCURRENCY,
    blockThreads: e.BLOCK_THREADS ?? defaultBlockThreads(),
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

function gcpConfig(e: Env): GcpConfig {
  // configSchema guarantees these for gcp; the checks only narrow the types.
  if (!e.GOOGLE_CLOUD_PROJECT || !e.GCS_EXPORT_KEK || !e.QUARANTINE_BUCKET)
    throw new ConfigError('GOOGLE_CLOUD_PROJECT, GCS_EXPORT_KEK and QUARANTINE_BUCKET are required');
  return {
    projectId: e.GOOGLE_CLOUD_PROJECT,
    firestoreDatabaseId: e.FIRESTORE_DATABASE_ID,
    stateRetentionDays: e.STATE_RETENTION_DAYS,
    keyEncryptionKey: Buffer.from(e.GCS_EXPORT_KEK, 'base64'),
    quarantineBucket: e.QUARANTINE_BUCKET,
    upload: {
      resumableThresholdBytes: e.STORAGE_RESUMABLE_THRESHOLD_BYTES,
      resumableChunkBytes: e.STORAGE_RESUMABLE_CHUNK_BYTES,
    },
    storageRetry: {
      maxRetries: e.STORAGE_MAX_RETRIES,
      maxRetryDelaySeconds: e.STORAGE_MAX_RETRY_DELAY_SECONDS,
      totalTimeoutSeconds: e.STORAGE_RETRY_TOTAL_TIMEOUT_SECONDS,
    },
    ...(e.SENDGRID_API_KEY
      ? {
          sendGrid: {
            apiKey: e.SENDGRID_API_KEY,
            sandbox: e.SENDGRID_SANDBOX,
            ...(e.SENDGRID_API_BASE_URL ? { baseUrl: e.SENDGRID_API_BASE_URL } : {}),
          },
        }
      : {}),
    mailFrom: { email: e.MAIL_FROM, name: e.MAIL_FROM_NAME },
  };
}

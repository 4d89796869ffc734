import os from 'node:os';
import { z } from './domain/zod';
import type { ExportSettings } from './domain/context';
import { DEFAULT_SETTINGS } from './domain/context';
import { formatIssues } from './domain/schema';
import { DEPLOYED_LOG_LEVELS, LOG_LEVELS } from './ports/logger.port';
import { bucketNameSchema, gcsPrefixUriSchema } from './domain/source/gcs-uri';
import { ACCOUNT_PLACEHOLDER } from './domain/export-request';
import type { AddressPolicy } from './domain/notify/webhook-url';

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
const whole = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const H = DEFAULT_SETTINGS.health;

/** The link in the e-mails: an http(s) URL whose only placeholders are the ones the check fills in. */
const DASHBOARD_PLACEHOLDERS = ['{accountId}', '{exportId}', '{destinationId}'];
const dashboardUrlSchema = z
  .string()
  .refine(
    (template) => {
      const filled = DASHBOARD_PLACEHOLDERS.reduce((text, p) => text.replaceAll(p, 'x'), template);
      return !/[{}]/.test(filled) && /^https?:\/\//.test(filled) && z.url().safeParse(filled).success;
    },
    `must be an http(s) URL; its only placeholders may be ${DASHBOARD_PLACEHOLDERS.join(', ')}`,
  )
  .default(H.dashboardUrl);

const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z][\w.~%+-]{2,254}$/, 'is not a valid topic name')
    .default(fallback);

const kek = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be base64 of exactly 32 bytes');

/** A comma-separated list; empty items are ignored. */
const list = (item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1));

/** `gs://bucket/prefix/` in which `{accountId}` stands for the account: checked with a sample account id. */
const sourceTemplate = z
  .string()
  .refine(
    (template) => gcsPrefixUriSchema.safeParse(template.replaceAll(ACCOUNT_PLACEHOLDER, 'acct')).success,
    'must be gs://BUCKET/PREFIX/ (ending with "/"), optionally with {accountId} in the prefix',
  );

const serviceAccountEmail = z.email().regex(/\.gserviceaccount\.com$/, 'must be a service account e-mail');

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
  FAILURE_CHECK_TOPIC: topic(DEFAULT_SETTINGS.topics.failureCheck),
  // The escalation policy (docs/ESCALATION.md).
  NOTICE_2_AFTER_HOURS: whole(H.notice2AfterHours, 1, 720),
  STOP_AFTER_HOURS: whole(H.stopAfterHours, 2, 2160),
  STOP_AFTER_NOTICE_2_HOURS: whole(H.stopAfterNotice2Hours, 1, 720),
  RECOVERY_HOLD_HOURS: whole(H.recoveryHoldHours, 0, 168),
  NOTICE_CLAIM_LEASE_MINUTES: whole(H.noticeClaimLeaseMinutes, 1, 1440),
  DASHBOARD_URL: dashboardUrlSchema,
  RUN_SWEEP_AFTER_MINUTES: whole(H.runSweepAfterMinutes, 10, 1440),
  RUN_STUCK_AFTER_HOURS: whole(H.runStuckAfterHours, 1, 168),
  FAILURE_CHECK_PAGE_SIZE: whole(H.checkPageSize, 10, 1000),
  FAILURE_CHECK_CONCURRENCY: whole(H.checkConcurrency, 1, 64),
  FAILURE_CHECK_BUDGET_SECONDS: whole(H.checkBudgetSeconds, 10, 3600),
  FAILURE_CHECK_ACCEPTS_TIME: flag(H.acceptSimulatedTime),
  FIRESTORE_EMULATOR_HOST: z.string().optional(),
  // Google Cloud (GCS_EXPORT_ADAPTERS=gcp); the ones marked required there are checked below.
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'is not a valid project id')
    .optional(),
  FIRESTORE_DATABASE_ID: z.string().min(1).default('(default)'),
  // Firestore's TTL policy deletes runs, chunks and rejections this long after they were last written whole. At
  // least a week: a blocked run must outlive the three days of failure notices before its export is stopped.
  STATE_RETENTION_DAYS: z.coerce.number().int().min(7).max(3650).default(90),
  /**
   * Base64 of the current 32-byte key-encryption key (a Secret Manager secret in production). Only the functions
   * that encrypt or decrypt customers' keys need it; locally it overrides DATA/kek.key.
   */
  GCS_EXPORT_KEK: kek.optional(),
  /** Previous key-encryption keys, comma-separated, still accepted for decryption until `keys rewrap` ran. */
  GCS_EXPORT_KEK_PREVIOUS: list(kek).optional(),
  /** Where each account's sources lie, e.g. gs://platform-events/accounts/{accountId}/ (comma-separated). */
  SOURCE_PREFIX_TEMPLATE: list(sourceTemplate).optional(),
  /** The management API's callers: service-account e-mails whose Google ID tokens it accepts (comma-separated). */
  API_ALLOWED_CALLERS: list(serviceAccountEmail).optional(),
  /** The management API's operators: service-account e-mails that may call its admin routes (key re-wrap). */
  API_OPERATORS: list(serviceAccountEmail).optional(),
  /** The audience those ID tokens must be minted for: the api function's URL. */
  API_AUDIENCE: z.url().optional(),
  /** Where Google's ID-token signing certificates are fetched (PEM); only emulated setups change it. */
  API_ID_TOKEN_CERTS_URL: z.url().optional(),
  /** A shared bearer token instead of ID tokens: `gcs-export serve` and emulated setups only. */
  GCS_EXPORT_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Read by the Storage client itself; named here because STORAGE_EMULATOR_TOKEN_URL depends on it. */
  STORAGE_EMULATOR_HOST: z.string().optional(),
  /** Emulators only: customers' keys exchange their tokens here (the test GCS server's /token), not at Google. */
  STORAGE_EMULATOR_TOKEN_URL: z.url().optional(),
  /**
   * The identity that creates account principals (Terraform's principal creator: roles/iam.serviceAccountCreator on
   * the principals projects, nothing else); the API acts as it for that one call. Unset: the function's own identity.
   */
  PRINCIPAL_CREATOR: serviceAccountEmail.optional(),
  /** Emulators only: the IAM and IAM Credentials APIs at this base URL (the test GCS server), called without credentials. */
  IAM_EMULATOR_URL: z.url().optional(),
  QUARANTINE_BUCKET: bucketNameSchema.optional(),
  /**
   * The projects that hold the accounts' principals (destinations without a key), comma-separated: new accounts are
   * spread over them by hash. Unset in Google Cloud: grant destinations are refused. Locally: local-principals.
   */
  PRINCIPALS_PROJECTS: list(
    z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'is not a valid project id'),
  ).optional(),
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
  /** How long a send may wait for SendGrid's answer; an answer lost after that keeps the notice's claim (ESCALATION.md). */
  MAIL_TIMEOUT_MS: whole(10_000, 1_000, 120_000),
  MAIL_FROM: z.email().default('exports@gcs-export.invalid'),
  MAIL_FROM_NAME: z.string().min(1).default('Data exports'),
  /**
   * Tests only: customers' webhooks may be registered on, and delivered to, loopback addresses (a receiver on
   * 127.0.0.1). Refused with the Google Cloud adapters outside the emulators; Terraform never sets it.
   */
  WEBHOOK_ALLOW_LOOPBACK: flag(false),
});

/**
 * Variables whose values a deployment narrows, and the values it keeps: Terraform's variable validation allows
 * exactly these (a drift rule checks it). Tests and the CLI may use the others (`silent`, `error`).
 */
export const DEPLOYED_OPTIONS: Partial<Record<keyof z.infer<typeof envSchema>, readonly string[]>> = {
  // The log-based metrics and alerts count info events.
  LOG_LEVEL: DEPLOYED_LOG_LEVELS,
};

export const REQUIRED_FOR_GCP = [
  'GOOGLE_CLOUD_PROJECT',
  'QUARANTINE_BUCKET',
  'SOURCE_PREFIX_TEMPLATE',
] as const;

/** A flag for tests and the local demo: refused with the Google Cloud adapters outside the emulators. */
const testsOnly = (path: 'FAILURE_CHECK_ACCEPTS_TIME' | 'WEBHOOK_ALLOW_LOOPBACK') => ({
  path,
  message: 'may be true only with the local adapters or the Firestore emulator',
  holds: (env: Env) =>
    !env[path] || env.GCS_EXPORT_ADAPTERS === 'local' || env.FIRESTORE_EMULATOR_HOST !== undefined,
});

/** Rules between variables; each broken one is reported with the others. */
const crossRules: { path: keyof Env; message: string; holds: (env: Env) => boolean }[] = [
  {
    path: 'STOP_AFTER_HOURS',
    message: 'must be more than NOTICE_2_AFTER_HOURS',
    holds: (env) => env.STOP_AFTER_HOURS > env.NOTICE_2_AFTER_HOURS,
  },
  {
    path: 'RUN_STUCK_AFTER_HOURS',
    message: 'must be longer than RUN_SWEEP_AFTER_MINUTES',
    holds: (env) => env.RUN_STUCK_AFTER_HOURS * 60 > env.RUN_SWEEP_AFTER_MINUTES,
  },
  // Simulated time in production would let a message stop exports early.
  testsOnly('FAILURE_CHECK_ACCEPTS_TIME'),
  // A webhook on loopback in production would let a customer make the functions call themselves.
  testsOnly('WEBHOOK_ALLOW_LOOPBACK'),
  {
    path: 'GCS_EXPORT_API_TOKEN',
    message: 'must not be set with API_ALLOWED_CALLERS: choose ID tokens or the shared token',
    holds: (env) => !(env.API_ALLOWED_CALLERS && env.GCS_EXPORT_API_TOKEN),
  },
  {
    path: 'API_AUDIENCE',
    message: 'is required with API_ALLOWED_CALLERS (the api function URL)',
    holds: (env) => !env.API_ALLOWED_CALLERS || env.API_AUDIENCE !== undefined,
  },
  {
    path: 'STORAGE_EMULATOR_TOKEN_URL',
    message: 'is only for emulators: set STORAGE_EMULATOR_HOST too',
    holds: (env) => !env.STORAGE_EMULATOR_TOKEN_URL || env.STORAGE_EMULATOR_HOST !== undefined,
  },
  {
    path: 'IAM_EMULATOR_URL',
    message: 'is only for emulators: set STORAGE_EMULATOR_HOST too',
    holds: (env) => !env.IAM_EMULATOR_URL || env.STORAGE_EMULATOR_HOST !== undefined,
  },
  {
    path: 'GCS_EXPORT_KEK_PREVIOUS',
    message: 'needs GCS_EXPORT_KEK (the current key) as well',
    holds: (env) => !env.GCS_EXPORT_KEK_PREVIOUS || env.GCS_EXPORT_KEK !== undefined,
  },
];

const configSchema = envSchema.superRefine((env, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  for (const rule of crossRules) {
    if (!rule.holds(env)) issue(rule.path, rule.message);
  }
  if (env.GCS_EXPORT_ADAPTERS !== 'gcp') return;
  for (const name of REQUIRED_FOR_GCP) {
    if (env[name] === undefined) issue(name, 'is required when GCS_EXPORT_ADAPTERS=gcp');
  }
});

export type Env = z.infer<typeof envSchema>;

/** Key-encryption keys: the current one seals, every one of them opens (rotation). */
export interface KeyEncryptionKeys {
  current: Buffer;
  previous: Buffer[];
}

/** Who may call the management API. */
export interface ApiCallers {
  /** Production: Google ID tokens of these service accounts, minted for `audience`. */
  idTokens?: { emails: string[]; operators: string[]; audience: string; certsUrl?: string };
  /** `gcs-export serve` and emulated setups: one shared bearer token. */
  bearerToken?: string;
}

export interface GcpConfig {
  projectId: string;
  firestoreDatabaseId: string;
  stateRetentionDays: number;
  /** Absent in functions that never touch customers' keys. */
  keyEncryptionKeys?: KeyEncryptionKeys;
  /** Emulators only (STORAGE_EMULATOR_TOKEN_URL). */
  storageEmulatorTokenUrl?: string;
  /** Emulators only (IAM_EMULATOR_URL): where the account principals are created and impersonated. */
  iamEmulatorUrl?: string;
  /** Who creates account principals (PRINCIPAL_CREATOR), impersonated for that call only. */
  principalCreator?: string;
  quarantineBucket: string;
  upload: typeof DEFAULT_UPLOAD_OPTIONS;
  storageRetry: typeof DEFAULT_STORAGE_RETRY;
  /** Absent when no SendGrid key is configured: only the functions that send e-mail require it. */
  sendGrid?: { apiKey: string; baseUrl?: string; sandbox: boolean; timeoutMs: number };
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
  api: ApiCallers;
  /** From the environment; local runs fall back to DATA/kek.key. */
  keyEncryptionKeys?: KeyEncryptionKeys;
  /** The notices' sender (MAIL_FROM, MAIL_FROM_NAME), for SendGrid and the local outbox alike. */
  mailFrom: { email: string; name: string };
  /** Which addresses customers' webhooks may reach: public ones, and loopback in tests (WEBHOOK_ALLOW_LOOPBACK). */
  webhookPolicy: AddressPolicy;
  /** Where accounts' principals are created (PRINCIPALS_PROJECTS); empty: grant destinations are refused. */
  principalsProjects: string[];
}

/** The principals project of local runs, when PRINCIPALS_PROJECTS is unset. */
export const LOCAL_PRINCIPALS_PROJECT = 'local-principals';

/**
 * One worker thread per vCPU beyond the first; none on a single vCPU, where a thread would only add hand-over costs.
 * The main thread reads, gunzips and compresses through libuv's threads, and takes blocks itself when every worker has
 * one (piscina-block-processor.ts), so the first vCPU is used without the RSS another worker costs (20–60 MiB)
 * (docs/PERFORMANCE.md, "Memory" and "The main thread takes blocks").
 */
export function defaultBlockThreads(cpus = os.availableParallelism()): number {
  return Math.max(0, cpus - 1);
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
    api: apiCallers(e),
    mailFrom: { email: e.MAIL_FROM, name: e.MAIL_FROM_NAME },
    webhookPolicy: { allowLoopback: e.WEBHOOK_ALLOW_LOOPBACK },
    principalsProjects:
      e.PRINCIPALS_PROJECTS ?? (e.GCS_EXPORT_ADAPTERS === 'local' ? [LOCAL_PRINCIPALS_PROJECT] : []),
    ...keysOf(e),
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
        failureCheck: e.FAILURE_CHECK_TOPIC,
      },
      health: healthSettings(e),
      ...(e.SOURCE_PREFIX_TEMPLATE ? { sourceScope: e.SOURCE_PREFIX_TEMPLATE } : {}),
    },
  };
}

function healthSettings(e: Env): ExportSettings['health'] {
  return {
    notice2AfterHours: e.NOTICE_2_AFTER_HOURS,
    stopAfterHours: e.STOP_AFTER_HOURS,
    stopAfterNotice2Hours: e.STOP_AFTER_NOTICE_2_HOURS,
    recoveryHoldHours: e.RECOVERY_HOLD_HOURS,
    noticeClaimLeaseMinutes: e.NOTICE_CLAIM_LEASE_MINUTES,
    dashboardUrl: e.DASHBOARD_URL,
    runSweepAfterMinutes: e.RUN_SWEEP_AFTER_MINUTES,
    runStuckAfterHours: e.RUN_STUCK_AFTER_HOURS,
    checkPageSize: e.FAILURE_CHECK_PAGE_SIZE,
    checkConcurrency: e.FAILURE_CHECK_CONCURRENCY,
    checkBudgetSeconds: e.FAILURE_CHECK_BUDGET_SECONDS,
    acceptSimulatedTime: e.FAILURE_CHECK_ACCEPTS_TIME,
  };
}

function keysOf(e: Env): { keyEncryptionKeys?: KeyEncryptionKeys } {
  if (!e.GCS_EXPORT_KEK) return {};
  const decode = (value: string) => Buffer.from(value, 'base64');
  return {
    keyEncryptionKeys: {
      current: decode(e.GCS_EXPORT_KEK),
      previous: (e.GCS_EXPORT_KEK_PREVIOUS ?? []).map(decode),
    },
  };
}

function apiCallers(e: Env): ApiCallers {
  return {
    ...(e.API_ALLOWED_CALLERS && e.API_AUDIENCE
      ? {
          idTokens: {
            emails: e.API_ALLOWED_CALLERS,
            operators: e.API_OPERATORS ?? [],
            audience: e.API_AUDIENCE,
            ...(e.API_ID_TOKEN_CERTS_URL ? { certsUrl: e.API_ID_TOKEN_CERTS_URL } : {}),
          },
        }
      : {}),
    ...(e.GCS_EXPORT_API_TOKEN ? { bearerToken: e.GCS_EXPORT_API_TOKEN } : {}),
  };
}

function gcpConfig(e: Env): GcpConfig {
  // configSchema guarantees these for gcp; the checks only narrow the types.
  if (!e.GOOGLE_CLOUD_PROJECT || !e.QUARANTINE_BUCKET)
    throw new ConfigError('GOOGLE_CLOUD_PROJECT and QUARANTINE_BUCKET are required');
  return {
    projectId: e.GOOGLE_CLOUD_PROJECT,
    firestoreDatabaseId: e.FIRESTORE_DATABASE_ID,
    stateRetentionDays: e.STATE_RETENTION_DAYS,
    ...keysOf(e),
    ...(e.STORAGE_EMULATOR_TOKEN_URL ? { storageEmulatorTokenUrl: e.STORAGE_EMULATOR_TOKEN_URL } : {}),
    ...(e.IAM_EMULATOR_URL ? { iamEmulatorUrl: e.IAM_EMULATOR_URL } : {}),
    ...(e.PRINCIPAL_CREATOR ? { principalCreator: e.PRINCIPAL_CREATOR } : {}),
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
            timeoutMs: e.MAIL_TIMEOUT_MS,
            ...(e.SENDGRID_API_BASE_URL ? { baseUrl: e.SENDGRID_API_BASE_URL } : {}),
          },
        }
      : {}),
  };
}

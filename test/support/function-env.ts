import type { EntryPoint } from '../../functions/entry-points';
import { ENTRY_POINTS } from '../../functions/entry-points';
import { randomBytes } from 'node:crypto';

/** The api function's shared bearer token in emulated set-ups (production verifies Google ID tokens instead). */
export const FUNCTION_API_TOKEN = randomBytes(24).toString('base64url');

/** What the function instances read at cold start, as Terraform sets it (plus the emulator hosts). */
export function functionEnv(
  projectId: string,
  storageUrl: string,
  options: { quarantineBucket: string; sourceBucket: string; maxDeliveryAttempts: number },
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
    STORAGE_EMULATOR_HOST: storageUrl,
    // Destinations without a key: account principals created and impersonated at the test server.
    IAM_EMULATOR_URL: storageUrl,
    PRINCIPALS_PROJECTS: 'principals-system',
    METADATA_SERVER_DETECTION: 'none',
    GCS_EXPORT_ADAPTERS: 'gcp',
    GOOGLE_CLOUD_PROJECT: projectId,
    GCS_EXPORT_KEK: randomBytes(32).toString('base64'),
    QUARANTINE_BUCKET: options.quarantineBucket,
    SOURCE_PREFIX_TEMPLATE: `gs://${options.sourceBucket}/`,
    GCS_EXPORT_API_TOKEN: FUNCTION_API_TOKEN,
    LOG_LEVEL: 'info',
    MAX_DELIVERY_ATTEMPTS: String(options.maxDeliveryAttempts),
    // Small chunks, and a low resumable threshold, so that a modest source exercises several chunks, both
    // upload types, and resumable sessions of more than one request.
    CHUNK_TARGET_BYTES: String(1024 * 1024),
    MAX_PART_BYTES: String(1024 * 1024),
    STORAGE_RESUMABLE_THRESHOLD_BYTES: String(64 * 1024),
    STORAGE_RESUMABLE_CHUNK_BYTES: String(512 * 1024),
    STORAGE_MAX_RETRIES: '3',
    STORAGE_MAX_RETRY_DELAY_SECONDS: '1',
  };
}

/** One function's environment, as Terraform mounts it: no key-encryption key where no customer key is touched. */
export function envOf(target: EntryPoint, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (ENTRY_POINTS[target].usesCustomerKeys) return env;
  const { GCS_EXPORT_KEK: _current, GCS_EXPORT_KEK_PREVIOUS: _previous, ...rest } = env;
  return rest;
}

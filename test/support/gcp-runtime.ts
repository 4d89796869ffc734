import { randomBytes } from 'node:crypto';
import type { GcpRuntime } from '../../shared/composition/gcp';
import { createGcpRuntime } from '../../shared/composition/gcp';
import { loadConfig } from '../../shared/config';
import type { BucketSeed, GcsServer } from './gcs-server';
import type { Logger } from '../../shared/ports/logger.port';
import { startGcsServer } from './gcs-server';
import { freshProjectId } from './project-id';

export const QUARANTINE_BUCKET = 'platform-quarantine';
/** The source scope of test runtimes: the platform-side source bucket the suites use. */
export const TEST_SOURCE_SCOPE = 'gs://platform-source/';

export interface GcpTestRuntime {
  runtime: GcpRuntime;
  gcs: GcsServer;
  projectId: string;
  close(): Promise<void>;
}

/** The principals project of test runtimes with customerAuth. */
export const PRINCIPALS_PROJECT = 'principals-test';

/**
 * The production composition root in the test process: Firestore and Pub/Sub on the emulators (a fresh project),
 * Cloud Storage on a test GCS server of its own reached through STORAGE_EMULATOR_HOST, and retries kept short.
 */
export async function startGcpTestRuntime(options: {
  label: string;
  buckets: (string | BucketSeed)[];
  env?: Record<string, string>;
  /**
   * Customers' keys authenticate to the test GCS server (token exchange at its /token), which then applies the
   * permissions registered per service account. Without it, customer clients send no credentials and may do all.
   */
  customerAuth?: boolean;
  logger?: Logger;
}): Promise<GcpTestRuntime> {
  const projectId = freshProjectId(options.label);
  const gcs = await startGcsServer({ buckets: [...options.buckets, QUARANTINE_BUCKET] });
  process.env.STORAGE_EMULATOR_HOST = gcs.url;
  const config = loadConfig({
    GCS_EXPORT_ADAPTERS: 'gcp',
    GOOGLE_CLOUD_PROJECT: projectId,
    GCS_EXPORT_KEK: randomBytes(32).toString('base64'),
    QUARANTINE_BUCKET,
    SOURCE_PREFIX_TEMPLATE: TEST_SOURCE_SCOPE,
    STORAGE_MAX_RETRIES: '1',
    STORAGE_MAX_RETRY_DELAY_SECONDS: '1',
    LOG_LEVEL: 'silent',
    ...(options.customerAuth
      ? {
          STORAGE_EMULATOR_HOST: gcs.url,
          STORAGE_EMULATOR_TOKEN_URL: `${gcs.url}/token`,
          // Destinations without a key: principals created and impersonated at the same server.
          IAM_EMULATOR_URL: gcs.url,
          PRINCIPALS_PROJECTS: PRINCIPALS_PROJECT,
        }
      : {}),
    ...options.env,
  });
  if (!config.gcp) throw new Error('the gcp configuration is missing');
  const runtime = createGcpRuntime(config, config.gcp, options.logger);
  return {
    runtime,
    gcs,
    projectId,
    close: async () => {
      await runtime.close();
      await gcs.close();
      delete process.env.STORAGE_EMULATOR_HOST;
    },
  };
}

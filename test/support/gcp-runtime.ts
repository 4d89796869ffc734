import { randomBytes } from 'node:crypto';
import type { GcpRuntime } from '../../shared/composition/gcp';
import { createGcpRuntime } from '../../shared/composition/gcp';
import { loadConfig } from '../../shared/config';
import type { GcsServer } from './gcs-server';
import { startGcsServer } from './gcs-server';
import { freshProjectId } from './project-id';

export const QUARANTINE_BUCKET = 'platform-quarantine';

export interface GcpTestRuntime {
  runtime: GcpRuntime;
  gcs: GcsServer;
  projectId: string;
  close(): Promise<void>;
}

/**
 * The production composition root in the test process: Firestore and Pub/Sub on the emulators (a fresh project),
 * Cloud Storage on a test GCS server of its own reached through STORAGE_EMULATOR_HOST, and retries kept short.
 */
export async function startGcpTestRuntime(options: {
  label: string;
  buckets: string[];
  env?: Record<string, string>;
}): Promise<GcpTestRuntime> {
  const projectId = freshProjectId(options.label);
  const gcs = await startGcsServer({ buckets: [...options.buckets, QUARANTINE_BUCKET] });
  process.env.STORAGE_EMULATOR_HOST = gcs.url;
  const config = loadConfig({
    GCS_EXPORT_ADAPTERS: 'gcp',
    GOOGLE_CLOUD_PROJECT: projectId,
    GCS_EXPORT_KEK: randomBytes(32).toString('base64'),
    QUARANTINE_BUCKET,
    STORAGE_MAX_RETRIES: '1',
    STORAGE_MAX_RETRY_DELAY_SECONDS: '1',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  if (!config.gcp) throw new Error('the gcp configuration is missing');
  const runtime = createGcpRuntime(config, config.gcp);
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

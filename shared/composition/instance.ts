import { loadConfig } from '../config';
import { createGcpRuntime } from './gcp';
import { createLocalRuntime } from './local';
import type { ServiceRuntime } from '../handlers/service-runtime';

let instance: Promise<ServiceRuntime> | undefined;

async function build(): Promise<ServiceRuntime> {
  const config = loadConfig(process.env);
  switch (config.adapters) {
    case 'local':
      return createLocalRuntime({ config, dataDir: config.dataDir, persistState: true });
    case 'gcp':
      if (!config.gcp) throw new Error('GCS_EXPORT_ADAPTERS=gcp without Google Cloud settings');
      return createGcpRuntime(config, config.gcp);
  }
}

/**
 * The composition root of a function instance: configuration validated and adapters built once, at the first
 * event, then shared by every event the instance serves. A failed start is not cached, so the next event retries.
 */
export function instanceRuntime(): Promise<ServiceRuntime> {
  instance ??= build().catch((error: unknown) => {
    instance = undefined;
    throw error;
  });
  return instance;
}

import { loadConfig } from '../config';
import type { ExportContext } from '../domain/context';
import { createLocalRuntime } from './local';

let instance: Promise<ExportContext> | undefined;

/**
 * The composition root of a function instance: configuration validated and adapters built once, at the first
 * event, then shared by every event the instance serves.
 */
export function instanceContext(): Promise<ExportContext> {
  instance ??= (async () => {
    const config = loadConfig(process.env);
    switch (config.adapters) {
      case 'local':
        return (await createLocalRuntime({ config, dataDir: config.dataDir, persistState: true })).ctx;
    }
  })();
  return instance;
}

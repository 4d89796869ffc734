import { loadConfig } from '../config';
import type { Config } from '../config';
import type { LocalRuntime, LocalRuntimeOptions } from '../composition/local';
import { createLocalRuntime } from '../composition/local';
import { lockDataDir } from './data-lock';

export interface CommonOptions {
  data: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * Config from the environment, with the CLI's flags on top. The CLI prints its own summary, so it logs errors only
 * unless asked (`--verbose` for everything, or LOG_LEVEL): the failure demo's expected warnings (blocked chunks,
 * refused probes) are in its summary, not 77 JSON lines on stderr.
 */
export function cliConfig(options: CommonOptions, overrides: Partial<Config['settings']> = {}): Config {
  const config = loadConfig(process.env);
  const logLevel = options.verbose ? 'info' : process.env.LOG_LEVEL ? config.logLevel : 'error';
  return { ...config, dataDir: options.data, logLevel, settings: { ...config.settings, ...overrides } };
}

/** The local runtime over the data folder, locked for this process until `close()`; a clock to travel in time. */
export async function openRuntime(
  config: Config,
  options: Pick<LocalRuntimeOptions, 'callers' | 'clock'> = {},
): Promise<LocalRuntime> {
  const unlock = await lockDataDir(config.dataDir);
  try {
    const runtime = await createLocalRuntime({
      config,
      dataDir: config.dataDir,
      persistState: true,
      blockThreads: config.blockThreads,
      ...options,
    });
    return {
      ...runtime,
      close: async () => {
        await runtime.close();
        await unlock();
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}

/** Opens the runtime, runs `work`, and always closes it (state saved, data folder unlocked). */
export async function withRuntime<T>(
  options: CommonOptions,
  work: (runtime: LocalRuntime) => Promise<T>,
): Promise<T> {
  const runtime = await openRuntime(cliConfig(options));
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** `--json` promises a machine-readable summary as the last line of output. */
export function printResult(options: CommonOptions, human: string, json: unknown): void {
  if (human) process.stdout.write(`${human}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(json)}\n`);
}

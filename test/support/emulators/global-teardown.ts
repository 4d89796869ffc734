import type { GlobalEmulatorState } from './global-setup';
import { STATE_KEY } from './global-setup';

/** Jest globalTeardown of the `cloud` project: stops the emulators globalSetup started and restores the env. */
export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as Record<symbol, unknown>;
  const state = globals[STATE_KEY] as GlobalEmulatorState | undefined;
  if (!state) return;
  delete globals[STATE_KEY];
  await state.stack.stop();
  // In watch mode the next run's globalSetup must not mistake this run's (now stopped) emulators for reusable ones.
  for (const [name, value] of Object.entries(state.savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

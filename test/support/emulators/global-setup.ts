import type { EmulatorStack } from './launcher';
import { EMULATOR_ENV, startEmulators } from './launcher';

/** What globalTeardown needs; Jest runs both in its parent process, so a global carries it across. */
export interface GlobalEmulatorState {
  stack: EmulatorStack;
  savedEnv: Record<string, string | undefined>;
}

export const STATE_KEY = Symbol.for('gcs-export.test.emulators');

/** Set to 1 (e.g. in CI) to fail the run instead of skipping the emulator tests when an emulator is missing. */
export const REQUIRE_ENV = 'GCS_EXPORT_TEST_REQUIRE_EMULATORS';

/** Read by test-timeout.ts in each worker. */
export const TIMEOUT_ENV = 'GCS_EXPORT_TEST_TIMEOUT_MS';
export const CLOUD_TEST_TIMEOUT_MS = 120_000;

/**
 * Jest globalSetup of the `cloud` project: starts (or reuses) the Firestore and Pub/Sub emulators once per run
 * and hands their hosts to the test workers through process.env (workers are forked after this runs).
 */
export default async function globalSetup(globalConfig?: { testTimeout?: number }): Promise<void> {
  const names = [...Object.values(EMULATOR_ENV).flatMap(({ host, skip }) => [host, skip]), TIMEOUT_ENV];
  const savedEnv = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  // The cloud project's tests get at least CLOUD_TEST_TIMEOUT_MS, more when `--testTimeout` asks for more.
  process.env[TIMEOUT_ENV] = String(Math.max(CLOUD_TEST_TIMEOUT_MS, globalConfig?.testTimeout ?? 0));
  const stack = await startEmulators();
  (globalThis as Record<symbol, unknown>)[STATE_KEY] = { stack, savedEnv } satisfies GlobalEmulatorState;

  for (const outcome of stack.outcomes) {
    const { host, skip } = EMULATOR_ENV[outcome.kind];
    if (outcome.status === 'skipped') {
      process.env[skip] = outcome.reason;
    } else {
      process.env[host] = outcome.host;
      delete process.env[skip];
    }
  }

  const skipped = stack.outcomes.filter((outcome) => outcome.status === 'skipped');
  if (skipped.length > 0 && ['1', 'true'].includes(process.env[REQUIRE_ENV] ?? '')) {
    await stack.stop();
    throw new Error(
      `${REQUIRE_ENV} is set and ${skipped.map((outcome) => outcome.kind).join(' and ')} could not be brought up (see the lines above)`,
    );
  }
}

import type { EmulatorKind } from './launcher';
import { EMULATOR_ENV } from './launcher';
import { httpRequest } from './http';

export type { EmulatorKind } from './launcher';

const LABEL: Record<EmulatorKind, string> = { firestore: 'Firestore', pubsub: 'Pub/Sub' };

/** Why `kind` cannot be used in this test worker, or undefined when it can. */
export function emulatorSkipReason(kind: EmulatorKind): string | undefined {
  const { host, skip } = EMULATOR_ENV[kind];
  const reason = process.env[skip];
  if (reason) return reason;
  if (!process.env[host]) {
    return `${host} is not set (the emulators are started by the globalSetup of the jest "cloud" project, which covers test/contract, test/integration and test/system)`;
  }
  return undefined;
}

export const firestoreAvailable = (): boolean => emulatorSkipReason('firestore') === undefined;
export const pubsubAvailable = (): boolean => emulatorSkipReason('pubsub') === undefined;

/** `host:port` of a running emulator; throws with the skip reason when there is none. */
export function emulatorHost(kind: EmulatorKind): string {
  const reason = emulatorSkipReason(kind);
  if (reason) throw new Error(`the ${LABEL[kind]} emulator is not available: ${reason}`);
  return process.env[EMULATOR_ENV[kind].host]!;
}

function describeWith(kinds: EmulatorKind[], name: string, fn: () => void): void {
  const missing = kinds.flatMap((kind) => {
    const reason = emulatorSkipReason(kind);
    return reason ? [`${LABEL[kind]}: ${reason}`] : [];
  });
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  console.warn(`!!! SKIPPED "${name}" — emulator unavailable. ${missing.join('; ')}`);
  describe.skip(name, fn);
}

/** `describe` when the Firestore emulator is up, else `describe.skip` with a warning saying why. */
export const describeWithFirestore = (name: string, fn: () => void): void =>
  describeWith(['firestore'], name, fn);
/** `describe` when the Pub/Sub emulator is up, else `describe.skip` with a warning saying why. */
export const describeWithPubSub = (name: string, fn: () => void): void => describeWith(['pubsub'], name, fn);
/** `describe` when both emulators are up, else `describe.skip` with a warning saying why. */
export const describeWithEmulators = (name: string, fn: () => void): void =>
  describeWith(['firestore', 'pubsub'], name, fn);

/** Deletes every document of one project in the Firestore emulator (other project ids are untouched). */
export async function wipeFirestore(projectId: string): Promise<void> {
  const url = `http://${emulatorHost('firestore')}/emulator/v1/projects/${encodeURIComponent(projectId)}/databases/(default)/documents`;
  const { status, body } = await httpRequest('DELETE', url, { timeoutMs: 30_000 });
  if (status !== 200) throw new Error(`wiping Firestore project ${projectId} failed: ${status} ${body}`);
}

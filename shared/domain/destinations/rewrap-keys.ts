import type { Logger } from '../../ports/logger.port';
import type { SecretCipher } from '../../ports/secret-cipher.port';
import type { StateStore } from '../../ports/state-store.port';
import { destinationDocSchema, keyBindingOf } from './destination.schema';
import { parseDocument } from '../documents';
import { logEvent } from '../log-events';

export interface RewrapOutcome {
  /** Destinations looked at. */
  examined: number;
  /** Keys re-encrypted under the current key-encryption key. */
  rewrapped: number;
  /** Keys already under the current key-encryption key. */
  current: number;
  /** Destinations without a key (local runs). */
  withoutKey: number;
}

export interface RewrapDeps {
  state: StateStore;
  cipher: SecretCipher;
  logger: Logger;
}

const PAGE = 200;

/**
 * Re-encrypts every stored key that is not sealed under the current key-encryption key, so that the previous one can
 * be retired. Each key is re-read and replaced in a transaction that checks it did not change meanwhile (a rotation
 * wins). The customer's key version stays: it is the same key, wrapped differently. Idempotent: a second run
 * finds every key current.
 */
export async function rewrapKeys(deps: RewrapDeps): Promise<RewrapOutcome> {
  const outcome: RewrapOutcome = { examined: 0, rewrapped: 0, current: 0, withoutKey: 0 };
  let startAfter: string | undefined;
  for (;;) {
    const docs = await deps.state.list('destinations', {
      limit: PAGE,
      ...(startAfter === undefined ? {} : { startAfter }),
    });
    for (const { id } of docs) {
      outcome.examined += 1;
      const result = await rewrapOne(deps, `destinations/${id}`);
      outcome[result] += 1;
    }
    if (docs.length < PAGE) break;
    startAfter = docs[docs.length - 1]?.id;
  }
  // "withoutKey" would be redacted by the logger (field names with "key" are), so it is logged as "none".
  logEvent(deps.logger, 'keysRewrapped', {
    examined: outcome.examined,
    rewrapped: outcome.rewrapped,
    current: outcome.current,
    none: outcome.withoutKey,
  });
  return outcome;
}

function rewrapOne(deps: RewrapDeps, path: string): Promise<'rewrapped' | 'current' | 'withoutKey'> {
  return deps.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return 'withoutKey';
    const doc = parseDocument(destinationDocSchema, path, data);
    if (!doc.key) return 'withoutKey';
    if (deps.cipher.isCurrent(doc.key.ciphertext)) return 'current';
    const binding = keyBindingOf(doc.accountId, doc.destinationId);
    const ciphertext = await deps.cipher.encrypt(
      await deps.cipher.decrypt(doc.key.ciphertext, binding),
      binding,
    );
    tx.update(path, { key: { ...doc.key, ciphertext } });
    return 'rewrapped';
  });
}

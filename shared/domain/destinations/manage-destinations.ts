import type { BucketStore } from '../../ports/bucket-store.port';
import { StorageFailure } from '../../ports/bucket-store.port';
import type { Clock } from '../../ports/clock.port';
import type { SecretCipher } from '../../ports/secret-cipher.port';
import type { StateStore } from '../../ports/state-store.port';
import type { DestinationDoc, ServiceAccountKey } from './destination.schema';
import {
  destinationDocSchema,
  keyBindingOf,
  parseServiceAccountKey,
  publicDestination,
} from './destination.schema';
import { paths, parseDocument } from '../documents';
import { inputError } from '../errors';
import { idSchema } from '../ids';
import { parseWithSchema } from '../schema';
import { bucketNameSchema } from '../source/gcs-uri';
import { classifyDestinationFailure } from '../storage-failures';
import { z } from '../zod';

export const newDestinationSchema = z.strictObject({
  accountId: idSchema,
  destinationId: idSchema,
  nickname: z.string().trim().min(1).max(100),
  bucket: bucketNameSchema,
});
export type NewDestination = z.infer<typeof newDestinationSchema>;

export type PublicDestination = ReturnType<typeof publicDestination>;

export interface DestinationDeps {
  state: StateStore;
  cipher: SecretCipher;
  clock: Clock;
  /** The store that acts with a key (or the stored one), to check the bucket before saving ("Error when saving credentials"). */
  storeFor(
    destination: Pick<DestinationDoc, 'accountId' | 'destinationId' | 'bucket'>,
    keyText?: string,
  ): Promise<BucketStore>;
}

/** Checks that the key can write to the bucket; a refusal carries the customer-facing message of the product doc. */
async function checkBucket(
  deps: DestinationDeps,
  destination: Pick<DestinationDoc, 'accountId' | 'destinationId' | 'bucket'>,
  keyText?: string,
): Promise<void> {
  const store = await deps.storeFor(destination, keyText);
  try {
    await store.probe(destination.bucket);
  } catch (error) {
    if (error instanceof StorageFailure) throw classifyDestinationFailure(error, destination.bucket);
    throw error;
  }
}

function parseKeyOrThrow(keyText: string): ServiceAccountKey {
  const key = parseServiceAccountKey(keyText);
  if (!key.ok) throw inputError('invalidKey', key.violations.join('; '), { violations: key.violations });
  return key.value;
}

async function sealKey(
  deps: DestinationDeps,
  accountId: string,
  destinationId: string,
  keyText: string,
  key: ServiceAccountKey,
  version: number,
): Promise<NonNullable<DestinationDoc['key']>> {
  return {
    // Bound to this account's destination: the ciphertext is useless on any other document.
    ciphertext: await deps.cipher.encrypt(keyText, keyBindingOf(accountId, destinationId)),
    version,
    clientEmail: key.client_email,
    projectId: key.project_id,
    privateKeyId: key.private_key_id,
  };
}

/** Registers a destination: validates the key, checks the bucket with it, then stores the key encrypted. */
export async function registerDestination(
  deps: DestinationDeps,
  input: unknown,
  keyText?: string,
): Promise<PublicDestination> {
  const parsed = parseWithSchema(newDestinationSchema, input);
  const key = keyText === undefined ? undefined : parseServiceAccountKey(keyText);
  const violations = [...(parsed.ok ? [] : parsed.violations), ...(key && !key.ok ? key.violations : [])];
  if (!parsed.ok || (key && !key.ok))
    throw inputError('invalidDestination', violations.join('; '), { violations });
  const fields = parsed.value;
  const path = paths.destination(fields.accountId, fields.destinationId);
  if (await deps.state.get(path))
    throw inputError('destinationExists', `destination "${fields.destinationId}" already exists`);

  await checkBucket(deps, fields, keyText);

  const now = deps.clock.now().toISOString();
  const doc: DestinationDoc = {
    ...fields,
    ...(key?.ok && keyText !== undefined
      ? { key: await sealKey(deps, fields.accountId, fields.destinationId, keyText, key.value, 1) }
      : {}),
    createdAt: now,
    updatedAt: now,
  };
  const created = await deps.state.create(path, destinationDocSchema.parse(doc));
  if (!created) throw inputError('destinationExists', `destination "${fields.destinationId}" already exists`);
  return publicDestination(doc);
}

/** The account's own destination, or "not found": another account's destination looks exactly like a missing one. */
export async function getDestination(
  state: StateStore,
  accountId: string,
  destinationId: string,
): Promise<DestinationDoc> {
  const path = paths.destination(accountId, destinationId);
  const data = await state.get(path);
  const doc = data === undefined ? undefined : parseDocument(destinationDocSchema, path, data);
  if (!doc || doc.accountId !== accountId || doc.destinationId !== destinationId) {
    throw inputError(
      'destinationNotFound',
      `destination "${destinationId}" does not exist for account "${accountId}"`,
    );
  }
  return doc;
}

export async function listDestinations(state: StateStore, accountId: string): Promise<PublicDestination[]> {
  const prefix = paths.destination(accountId, '').slice('destinations/'.length);
  return (await state.list('destinations'))
    .filter((entry) => entry.id.startsWith(prefix))
    .map((entry) => parseDocument(destinationDocSchema, `destinations/${entry.id}`, entry.data))
    .filter((doc) => doc.accountId === accountId)
    .map(publicDestination);
}

/** Replaces the key after checking the new one reaches the bucket; running chunks pick it up by its new version. */
export async function rotateDestinationKey(
  deps: DestinationDeps,
  accountId: string,
  destinationId: string,
  keyText: string,
): Promise<PublicDestination> {
  const current = await getDestination(deps.state, accountId, destinationId);
  const key = parseKeyOrThrow(keyText);
  await checkBucket(deps, current, keyText);
  const path = paths.destination(accountId, destinationId);
  const version = (current.key?.version ?? 0) + 1;
  const sealed = await sealKey(deps, accountId, destinationId, keyText, key, version);
  const updatedAt = deps.clock.now().toISOString();
  return deps.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined)
      throw inputError('destinationNotFound', `destination "${destinationId}" was deleted`);
    const latest = parseDocument(destinationDocSchema, path, data);
    // Two rotations at once: versions must still only grow, so that caches keyed by version stay correct.
    const next = { ...sealed, version: Math.max(version, (latest.key?.version ?? 0) + 1) };
    tx.update(path, { key: next, updatedAt });
    return publicDestination({ ...latest, key: next, updatedAt });
  });
}

/** Checks the stored key against the bucket now ("validate" in the API, and the hourly re-probe). */
export async function validateDestination(
  deps: DestinationDeps,
  accountId: string,
  destinationId: string,
): Promise<PublicDestination> {
  const current = await getDestination(deps.state, accountId, destinationId);
  await checkBucket(deps, current);
  return publicDestination(current);
}

/** Deletes the destination and with it the only copy of the encrypted key. */
export async function deleteDestination(
  state: StateStore,
  accountId: string,
  destinationId: string,
): Promise<void> {
  await getDestination(state, accountId, destinationId);
  await state.delete(paths.destination(accountId, destinationId));
}

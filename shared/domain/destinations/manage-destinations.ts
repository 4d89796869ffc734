import type { BucketStore } from '../../ports/bucket-store.port';
import type { Clock } from '../../ports/clock.port';
import type { SecretCipher } from '../../ports/secret-cipher.port';
import type { StateStore, StateTransaction } from '../../ports/state-store.port';
import type { DestinationDoc, ServiceAccountKey } from './destination.schema';
import {
  canonicalKeyText,
  destinationDocSchema,
  keyBindingOf,
  parseServiceAccountKey,
  publicDestination,
} from './destination.schema';
import type { PrincipalDirectory } from '../../ports/principals.port';
import { ensureAccountPrincipal, grantFix } from './account-principals';
import type { ProbeOutcome, ProbeWarning } from './probe';
import { probeDestination } from './probe';
import { paths, parseDocument } from '../documents';
import { inputError } from '../errors';
import { accountScopedId, idSchema, sha256Hex } from '../ids';
import type { Page, PageRequest } from '../pages';
import { listPage } from '../pages';
import { parseWithSchema } from '../schema';
import { bucketNameSchema } from '../source/gcs-uri';
import { z } from '../zod';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export const newDestinationSchema = z.strictObject({
  accountId: idSchema,
  destinationId: idSchema,
  nickname: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((nickname) => !CONTROL_CHARACTERS.test(nickname), 'must not contain control characters'),
  bucket: bucketNameSchema,
});
export type NewDestination = z.infer<typeof newDestinationSchema>;

export type PublicDestination = ReturnType<typeof publicDestination>;
/**
 * A check of the destination as it is now, run inside the write's transaction (the API's If-Match): it throws to
 * refuse the write.
 */
export type Precondition = (current: PublicDestination) => void;
/** A destination just saved or checked, with what the probe wants the customer to know. */
export type CheckedDestination = PublicDestination & { warnings: ProbeWarning[] };

/** The fields of a destination that decide who acts in its bucket. */
export type DestinationIdentity = Pick<
  DestinationDoc,
  'accountId' | 'destinationId' | 'bucket' | 'key' | 'grant'
>;

/**
 * How a destination reaches its bucket: a service-account key (the key file's text) or a grant to the account's
 * principal. A bare string is the key's text, as callers have always sent it.
 */
export type DestinationAuth = { type: 'serviceAccountKey'; key: string } | { type: 'grant' };

export interface DestinationDeps {
  state: StateStore;
  cipher: SecretCipher;
  clock: Clock;
  /** The store that acts with a key (or the stored one), to check the bucket before saving ("Error when saving credentials"). */
  storeFor(destination: DestinationIdentity, keyText?: string): Promise<BucketStore>;
  /** The accounts' principals (grant destinations): created on first use in one of `projects`. */
  principals: { directory: PrincipalDirectory; projects: readonly string[] };
}

/** The account's principal, created on first use (the customer grants it the roles on the bucket). */
export const accountPrincipal = (deps: DestinationDeps, accountId: string): Promise<string> =>
  ensureAccountPrincipal({ state: deps.state, clock: deps.clock, ...deps.principals }, accountId);

/** Nicknames are unique per account, compared as a customer reads them. */
const nicknameKey = (nickname: string): string => nickname.trim().normalize('NFC').toLowerCase();

/**
 * The claim that makes a nickname unique in its account, written in the same transaction as the destination. A
 * claim whose destination is gone (a delete that stopped half-way) is free again.
 */
const nicknameClaimPath = (accountId: string, nickname: string): string =>
  `destinationNicknames/${accountScopedId(accountId, sha256Hex(nicknameKey(nickname)).slice(0, 32))}`;
const nicknameClaimSchema = z.object({ destinationId: z.string() });

async function claimedBy(tx: StateTransaction, accountId: string, nickname: string) {
  const claim = await tx.get(nicknameClaimPath(accountId, nickname));
  if (claim === undefined) return undefined;
  const { destinationId } = nicknameClaimSchema.parse(claim);
  return (await tx.get(paths.destination(accountId, destinationId))) === undefined
    ? undefined
    : destinationId;
}

/** Checks the bucket with the key, as exports will use it; a refusal carries the customer-facing message. */
async function checkBucket(
  deps: DestinationDeps,
  destination: DestinationIdentity,
  keyText?: string,
  clientEmail?: string,
): Promise<ProbeOutcome> {
  const store = await deps.storeFor(destination, keyText);
  const { grant } = destination;
  return grant
    ? probeDestination(store, destination, grant.principal, grantFix(destination.bucket, grant.principal))
    : probeDestination(store, destination, clientEmail ?? destination.key?.clientEmail);
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
  key: ServiceAccountKey,
  version: number,
): Promise<NonNullable<DestinationDoc['key']>> {
  return {
    // Bound to this account's destination: the ciphertext is useless on any other document.
    ciphertext: await deps.cipher.encrypt(canonicalKeyText(key), keyBindingOf(accountId, destinationId)),
    version,
    clientEmail: key.client_email,
    projectId: key.project_id,
    privateKeyId: key.private_key_id,
  };
}

// Refusals name no value the caller sent (docs/API.md): the caller knows what it sent.
const destinationExists = () =>
  inputError('destinationExists', 'this account already has a destination with this destinationId');
const nicknameTaken = () =>
  inputError('nicknameTaken', 'another destination of this account already has this nickname');

/**
 * Registers a destination: every shape violation at once (values never echoed), then the probe with the key (or, for
 * a grant, as the account's principal), then the key stored encrypted, with the nickname claimed in the same
 * transaction. Without credentials (local runs only: the API always sends some) the bucket folder is used as is.
 */
export async function registerDestination(
  deps: DestinationDeps,
  input: unknown,
  credentials?: string | DestinationAuth,
): Promise<CheckedDestination> {
  const auth: DestinationAuth | undefined =
    typeof credentials === 'string' ? { type: 'serviceAccountKey', key: credentials } : credentials;
  const keyText = auth?.type === 'serviceAccountKey' ? auth.key : undefined;
  const parsed = parseWithSchema(newDestinationSchema, input);
  const key = keyText === undefined ? undefined : parseServiceAccountKey(keyText);
  const violations = [...(parsed.ok ? [] : parsed.violations), ...(key && !key.ok ? key.violations : [])];
  if (!parsed.ok || (key && !key.ok))
    throw inputError('invalidDestination', violations.join('; '), { violations });
  const fields = parsed.value;
  const path = paths.destination(fields.accountId, fields.destinationId);
  // Conflicts first: they need no call to the customer's project.
  if (await deps.state.get(path)) throw destinationExists();
  if (await deps.state.transaction((tx) => claimedBy(tx, fields.accountId, fields.nickname)))
    throw nicknameTaken();

  const canonical = key?.ok ? canonicalKeyText(key.value) : undefined;
  // The principal is the account's own, never one the caller names.
  const grant =
    auth?.type === 'grant' ? { principal: await accountPrincipal(deps, fields.accountId) } : undefined;
  const probe = await checkBucket(
    deps,
    { ...fields, ...(grant ? { grant } : {}) },
    canonical,
    key?.ok ? key.value.client_email : undefined,
  );

  const now = deps.clock.now().toISOString();
  const doc: DestinationDoc = destinationDocSchema.parse({
    ...fields,
    ...(key?.ok ? { key: await sealKey(deps, fields.accountId, fields.destinationId, key.value, 1) } : {}),
    ...(grant ? { grant } : {}),
    createdAt: now,
    updatedAt: now,
  });
  await deps.state.transaction(async (tx) => {
    if ((await tx.get(path)) !== undefined) throw destinationExists();
    if ((await claimedBy(tx, fields.accountId, fields.nickname)) !== undefined) throw nicknameTaken();
    tx.create(path, doc);
    tx.set(nicknameClaimPath(fields.accountId, fields.nickname), { destinationId: fields.destinationId });
  });
  return { ...publicDestination(doc), warnings: probe.warnings };
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
    throw inputError('destinationNotFound', 'this account has no such destination');
  }
  return doc;
}

/** One page of the account's destinations: a query on the account, never a scan of every account's. */
export function listDestinations(
  state: StateStore,
  accountId: string,
  page?: PageRequest,
): Promise<Page<PublicDestination>> {
  return listPage(state, 'destinations', [{ field: 'accountId', equals: accountId }], page, (id, data) =>
    publicDestination(parseDocument(destinationDocSchema, `destinations/${id}`, data)),
  );
}

/** Replaces the key after checking the new one reaches the bucket; running chunks pick it up by its new ciphertext. */
export async function rotateDestinationKey(
  deps: DestinationDeps,
  accountId: string,
  destinationId: string,
  keyText: string,
  precondition: Precondition = () => undefined,
): Promise<CheckedDestination> {
  const current = await getDestination(deps.state, accountId, destinationId);
  const key = parseKeyOrThrow(keyText);
  if (current.grant)
    throw inputError(
      'invalidKey',
      'this destination has no key: the bucket was granted to the account principal; register a new destination to use a key',
    );
  // Refused before the probe, and again in the transaction: a write between the two is caught there.
  precondition(publicDestination(current));
  const probe = await checkBucket(deps, current, canonicalKeyText(key), key.client_email);
  const path = paths.destination(accountId, destinationId);
  const version = (current.key?.version ?? 0) + 1;
  const sealed = await sealKey(deps, accountId, destinationId, key, version);
  const updatedAt = deps.clock.now().toISOString();
  const rotated = await deps.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) throw inputError('destinationNotFound', 'the destination was deleted');
    const latest = parseDocument(destinationDocSchema, path, data);
    precondition(publicDestination(latest));
    // Two rotations at once: the version shown to the customer still only grows.
    const next = { ...sealed, version: Math.max(version, (latest.key?.version ?? 0) + 1) };
    tx.update(path, { key: next, updatedAt });
    return publicDestination({ ...latest, key: next, updatedAt });
  });
  return { ...rotated, warnings: probe.warnings };
}

/** Checks the stored key against the bucket now ("validate" in the API, resume, and the hourly re-probe). */
export async function validateDestination(
  deps: DestinationDeps,
  accountId: string,
  destinationId: string,
): Promise<CheckedDestination> {
  const current = await getDestination(deps.state, accountId, destinationId);
  const probe = await checkBucket(deps, current);
  return { ...publicDestination(current), warnings: probe.warnings };
}

/** Deletes the destination and with it the only copy of the encrypted key, then frees its nickname. */
export async function deleteDestination(
  state: StateStore,
  accountId: string,
  destinationId: string,
  precondition: Precondition = () => undefined,
): Promise<void> {
  await getDestination(state, accountId, destinationId);
  const path = paths.destination(accountId, destinationId);
  // One transaction: the precondition (If-Match) holds for the very version deleted, and the nickname is freed.
  await state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) throw inputError('destinationNotFound', 'this account has no such destination');
    const current = parseDocument(destinationDocSchema, path, data);
    precondition(publicDestination(current));
    const claim = nicknameClaimPath(accountId, current.nickname);
    const holder = await tx.get(claim);
    tx.delete(path);
    if (holder !== undefined && nicknameClaimSchema.parse(holder).destinationId === destinationId)
      tx.delete(claim);
  });
}

/**
 * Renames a destination: the new nickname is claimed and the old one freed in the same transaction as the change,
 * so nicknames stay unique per account (as on create).
 */
export async function renameDestination(
  deps: Pick<DestinationDeps, 'state' | 'clock'>,
  accountId: string,
  destinationId: string,
  nickname: string,
  precondition: Precondition = () => undefined,
): Promise<PublicDestination> {
  const parsed = parseWithSchema(newDestinationSchema.shape.nickname, nickname);
  if (!parsed.ok)
    throw inputError('invalidDestination', `nickname: ${parsed.violations.join('; ')}`, {
      violations: parsed.violations.map((v) => `nickname: ${v}`),
    });
  await getDestination(deps.state, accountId, destinationId);
  const path = paths.destination(accountId, destinationId);
  const updatedAt = deps.clock.now().toISOString();
  return deps.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) throw inputError('destinationNotFound', 'the destination was deleted');
    const latest = parseDocument(destinationDocSchema, path, data);
    precondition(publicDestination(latest));
    if (latest.nickname === parsed.value) return publicDestination(latest);
    const holder = await claimedBy(tx, accountId, parsed.value);
    if (holder !== undefined && holder !== destinationId) throw nicknameTaken();
    const oldClaim = nicknameClaimPath(accountId, latest.nickname);
    const newClaim = nicknameClaimPath(accountId, parsed.value);
    if (oldClaim !== newClaim) {
      const old = await tx.get(oldClaim);
      if (old !== undefined && nicknameClaimSchema.parse(old).destinationId === destinationId)
        tx.delete(oldClaim);
    }
    tx.set(newClaim, { destinationId });
    tx.update(path, { nickname: parsed.value, updatedAt });
    return publicDestination({ ...latest, nickname: parsed.value, updatedAt });
  });
}

import { createHash } from 'node:crypto';
import type { Clock } from '../../ports/clock.port';
import type { PrincipalDirectory } from '../../ports/principals.port';
import type { StateStore } from '../../ports/state-store.port';
import { parseDocument } from '../documents';
import { inputError, transientError } from '../errors';
import { idSchema } from '../ids';
import { z } from '../zod';

/**
 * What a customer grants the account's principal on the bucket instead of handing over a key: exactly what exports
 * need (storage.objects.create, storage.objects.get), as Cloud Storage's predefined roles.
 */
export const GRANT_ROLES = ['roles/storage.objectCreator', 'roles/storage.objectViewer'] as const;

/** Service account ids: 6-30 characters, a lowercase letter first, no trailing hyphen. */
export const PRINCIPAL_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const PRINCIPAL_EMAIL =
  /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;
const PREFIX = 'gx';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

const digestOf = (accountId: string): Buffer =>
  createHash('sha256').update(`gcs-export account principal\n${accountId}`).digest();

/**
 * The service account id of an account's principal: "gx" and 28 base32 digits of a hash of the account id (140 bits:
 * two accounts never share one). Deterministic, and stored on the account's principal document once created, so the
 * mapping never changes even if this function or the project pool does.
 */
export const principalIdOf = (accountId: string): string =>
  `${PREFIX}${base32(digestOf(accountId))}`.slice(0, 30);

/** The principals project of a new account: one of the pool, chosen by the account id's hash (spreads the quota). */
export function principalProjectOf(accountId: string, projects: readonly string[]): string {
  if (projects.length === 0) throw new Error('no principals project is configured (PRINCIPALS_PROJECTS)');
  const project = projects[digestOf(accountId).readUInt32BE(28) % projects.length];
  if (project === undefined) throw new Error('unreachable: the index is within the pool');
  return project;
}

export const principalEmailSchema = z.string().max(254).regex(PRINCIPAL_EMAIL, 'must be a service account');

/** `accountPrincipals/{accountId}`: which service account acts for the account (fixed once written). */
export const accountPrincipalPath = (accountId: string): string => `accountPrincipals/${accountId}`;
const accountPrincipalSchema = z.object({
  accountId: idSchema,
  principal: principalEmailSchema,
  createdAt: z.string(),
});

export interface PrincipalDeps {
  state: StateStore;
  clock: Clock;
  directory: PrincipalDirectory;
  /** The principals projects (Terraform's principals_projects): new accounts are spread over them by hash. */
  projects: readonly string[];
}

/**
 * The account's principal, created on first use. The account id alone decides it, never anything a caller sends: a
 * grant destination of account A is always written with A's principal, so a bucket that granted only B's principal
 * refuses every request made for A (the confused deputy of docs/ARCHITECTURE.md).
 */
export async function ensureAccountPrincipal(deps: PrincipalDeps, accountId: string): Promise<string> {
  const path = accountPrincipalPath(accountId);
  const known = await deps.state.get(path);
  if (known !== undefined) return parseDocument(accountPrincipalSchema, path, known).principal;
  if (deps.projects.length === 0)
    throw inputError('grantsNotEnabled', 'destinations without a key are not enabled on this deployment');
  let created: string;
  try {
    created = await deps.directory.ensure({
      projectId: principalProjectOf(accountId, deps.projects),
      id: principalIdOf(accountId),
      displayName: `gcs-export account ${accountId}`.slice(0, 100),
    });
  } catch (error) {
    // Nothing is recorded: the next attempt creates it again, or finds it (409).
    throw transientError('principalUnavailable', 'creating the account principal failed; try again', error);
  }
  const email = principalEmailSchema.parse(created);
  // Written only once the service account exists; two first uses at once agree on the first document written.
  return deps.state.transaction(async (tx) => {
    const current = await tx.get(path);
    if (current !== undefined) return parseDocument(accountPrincipalSchema, path, current).principal;
    tx.create(path, { accountId, principal: email, createdAt: deps.clock.now().toISOString() });
    return email;
  });
}

/** What the customer runs to grant the principal the two roles on the bucket (gcloud, one command per role). */
export const grantCommands = (bucket: string, principal: string): string[] =>
  GRANT_ROLES.map(
    (role) =>
      `gcloud storage buckets add-iam-policy-binding gs://${bucket} --member=serviceAccount:${principal} --role=${role}`,
  );

/** Everything a customer needs to grant access: who, which roles, and the exact commands. */
export const grantInstructions = (bucket: string, principal: string) => ({
  principal,
  roles: [...GRANT_ROLES],
  commands: grantCommands(bucket, principal),
});

/** The fix sentence of a refusal of a grant destination: the roles, to whom, and the commands. */
export const grantFix = (bucket: string, principal: string): string =>
  `Grant ${principal} the roles ${GRANT_ROLES.join(' and ')} on the bucket: ${grantCommands(bucket, principal).join(' ; ')}`;

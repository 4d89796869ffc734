import { Readable } from 'node:stream';
import type { BucketStore, RetentionPolicy } from '../../ports/bucket-store.port';
import { EXPORT_PERMISSIONS, RETENTION_PERMISSION, StorageFailure } from '../../ports/bucket-store.port';
import { destinationError } from '../errors';
import { sha256Hex } from '../ids';
import { classifyDestinationFailure, mapFailure, REQUIRED_ACCESS } from '../storage-failures';

/** Where the one probe object of a destination lives, so a customer who sees it knows what it is. */
export const PROBE_PREFIX = '.gcs-export-probe/';

/** Stable per destination: every later probe finds it (412) instead of adding another object to the bucket. */
export const probeObjectName = (accountId: string, destinationId: string): string =>
  `${PROBE_PREFIX}${sha256Hex(`${accountId}\n${destinationId}`).slice(0, 32)}`;

const PROBE_TEXT =
  'Written once by the data export service to prove that it may create objects in this bucket. ' +
  'It is never rewritten; you may delete it.\n';

export interface ProbeWarning {
  code: 'retentionPolicy';
  message: string;
  retention: RetentionPolicy;
}

export interface ProbeOutcome {
  /** 'written' the first time; 'present' when an earlier probe already proved writing (412). */
  probeObject: 'written' | 'present';
  warnings: ProbeWarning[];
}

export interface ProbedDestination {
  accountId: string;
  destinationId: string;
  bucket: string;
}

const days = (seconds: number): string => {
  const value = seconds / 86_400;
  return Number.isInteger(value) ? `${value} day${value === 1 ? '' : 's'}` : `${seconds} seconds`;
};

function retentionWarning(bucket: string, retention: RetentionPolicy): ProbeWarning {
  return {
    code: 'retentionPolicy',
    retention,
    message:
      `Bucket "${bucket}" has a ${retention.locked ? 'locked' : 'unlocked'} retention policy of ` +
      `${days(retention.periodSeconds)}. Exports still work: they only create new objects and never overwrite ` +
      `or delete one. Exported files cannot be deleted until they are ${days(retention.periodSeconds)} old.`,
  };
}

function missingPermissions(
  bucket: string,
  missing: readonly string[],
  clientEmail: string | undefined,
  fix: string,
) {
  const who = clientEmail ? `The service account ${clientEmail}` : 'The service account';
  return destinationError(
    'missingPermissions',
    `${who} lacks ${missing.join(' and ')} on bucket "${bucket}". ${fix}`,
    { bucket, missing: [...missing] },
  );
}

/** Reads the retention policy when the key may; a policy we cannot see is no reason to refuse the bucket. */
async function retentionOf(store: BucketStore, bucket: string): Promise<RetentionPolicy | undefined> {
  try {
    return await store.retentionPolicy(bucket);
  } catch (error) {
    if (error instanceof StorageFailure && (error.status === 403 || error.status === 401)) return undefined;
    throw error;
  }
}

/**
 * Proves that a key can do what exports do in the bucket, and nothing more is asked of the customer: the key must
 * hold storage.objects.create and storage.objects.get (testIamPermissions, which needs no permission itself), then
 * one write-once probe object per destination proves that writing really works (an existing one, 412, already
 * did). storage.buckets.get is optional: with it, a retention policy becomes a warning. `fix` tells the customer what
 * to grant when permissions are missing (a grant destination names its principal and the commands).
 */
export async function probeDestination(
  store: BucketStore,
  destination: ProbedDestination,
  clientEmail?: string,
  fix: string = REQUIRED_ACCESS,
): Promise<ProbeOutcome> {
  const { bucket } = destination;
  const classify = (error: StorageFailure) => classifyDestinationFailure(error, bucket);
  const held = await mapFailure(
    store.testPermissions(bucket, [...EXPORT_PERMISSIONS, RETENTION_PERMISSION]),
    classify,
  );
  const missing = EXPORT_PERMISSIONS.filter((permission) => !held.includes(permission));
  if (missing.length > 0) throw missingPermissions(bucket, missing, clientEmail, fix);

  const retention = held.includes(RETENTION_PERMISSION)
    ? await mapFailure(retentionOf(store, bucket), classify)
    : undefined;
  const name = probeObjectName(destination.accountId, destination.destinationId);
  let probeObject: ProbeOutcome['probeObject'] = 'written';
  try {
    await store.writeOnce(bucket, name, Readable.from([PROBE_TEXT]), { contentType: 'text/plain' });
  } catch (error) {
    if (!(error instanceof StorageFailure)) throw error;
    if (error.status !== 412) throw classify(error);
    probeObject = 'present';
  }
  return { probeObject, warnings: retention ? [retentionWarning(bucket, retention)] : [] };
}

import type { Fragment } from './mail-markup';
import { t } from './mail-markup';
import type { ErrorCodeOf } from '../error-codes';

/**
 * What a destination failure means to the customer, in the words of the product documentation ("403 — Credentials
 * are incorrect, GCP account is forbidden.", "Bucket names must match exactly", the retention-policy FAQ), and what
 * they can do about it. Built from the error code and the bucket name only: never from an error message, which may
 * carry platform internals.
 */
export interface CustomerError {
  /** What failed, one line. */
  headline: Fragment;
  /** Why, when there is more to say. */
  detail?: Fragment;
  /** The steps that fix it. */
  fix: Fragment[];
}

const GRANT_ROLES = (bucket: string) =>
  t`Give the service account the Storage Object Creator (roles/storage.objectCreator) and Storage Object Viewer (roles/storage.objectViewer) roles on the bucket ${bucket}, in Cloud Storage › Buckets › ${bucket} › Permissions.`;

const REGENERATE_KEY = t`Regenerate the service account's key in the Google Cloud console (IAM & Admin › Service Accounts › Keys › Add key › JSON), and paste the whole key file into the integration.`;

const CREDENTIALS = t`403 — Credentials are incorrect, GCP account is forbidden.`;

/** One entry per destination-kind code of the catalogue: the compiler refuses a code without its text. */
const DESTINATION_ERRORS: Record<ErrorCodeOf<'destination'>, (bucket: string) => CustomerError> = {
  credentialsInvalid: () => ({
    headline: CREDENTIALS,
    detail: t`The service account key has expired, was revoked or is invalid.`,
    fix: [REGENERATE_KEY],
  }),
  tokenExchangeRefused: () => ({
    headline: CREDENTIALS,
    detail: t`Google refused to sign in with the service account key: the key or its service account was deleted, disabled or has expired.`,
    fix: [REGENERATE_KEY],
  }),
  forbidden: (bucket) => ({
    headline: CREDENTIALS,
    detail: t`The service account may not write to the bucket ${bucket}.`,
    fix: [GRANT_ROLES(bucket), REGENERATE_KEY],
  }),
  missingPermissions: (bucket) => ({
    headline: CREDENTIALS,
    detail: t`The service account lacks storage.objects.create or storage.objects.get on the bucket ${bucket}.`,
    fix: [GRANT_ROLES(bucket)],
  }),
  bucketNotFound: (bucket) => ({
    headline: t`404 — The bucket ${bucket} was not found.`,
    fix: [
      t`Bucket names must match exactly: compare the bucket name in the integration with Cloud Storage › Buckets in the Google Cloud console, or create the bucket ${bucket}.`,
    ],
  }),
  retentionPolicyNotMet: (bucket) => ({
    headline: t`403: retentionPolicyNotMet — the bucket ${bucket} has a retention policy that prevents the export from writing.`,
    fix: [
      t`In the Google Cloud console, open Cloud Storage › Buckets › ${bucket} › Protection, and delete the retention policy.`,
      t`If the policy is locked it cannot be removed: change the integration to another bucket.`,
    ],
  }),
  destinationDeleted: () => DELETED,
  destinationRejected: (bucket) => ({
    headline: t`Google Cloud Storage refused the export to the bucket ${bucket}.`,
    fix: [
      t`Check the bucket and the service account's permissions in the Google Cloud console, then validate the integration.`,
    ],
  }),
};

const DELETED: CustomerError = {
  headline: t`The integration this export writes to was deleted.`,
  fix: [t`Set up the integration again with the bucket and a service account key.`],
};

const isDestinationCode = (code: string): code is ErrorCodeOf<'destination'> =>
  Object.hasOwn(DESTINATION_ERRORS, code);

/** The customer's text for a failure code; a code the catalogue no longer has reads as a refusal of the bucket. */
export function customerError(code: string, bucket: string): CustomerError {
  if (code === 'destinationNotFound') return DELETED;
  return (isDestinationCode(code) ? DESTINATION_ERRORS[code] : DESTINATION_ERRORS.destinationRejected)(
    bucket,
  );
}

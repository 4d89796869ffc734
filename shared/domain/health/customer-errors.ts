import type { Fragment } from './mail-markup';
import { t } from './mail-markup';

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

const REGENERATE_KEY = t`Regenerate the service account's key in the Google Cloud console (IAM & Admin › Service Accounts › Keys › Add key › JSON), and paste the whole key file into the integration.`;

export function customerError(code: string, bucket: string): CustomerError {
  switch (code) {
    case 'credentialsInvalid':
      return {
        headline: t`403 — Credentials are incorrect, GCP account is forbidden.`,
        detail: t`The service account key has expired, was revoked or is invalid.`,
        fix: [REGENERATE_KEY],
      };
    case 'forbidden':
      return {
        headline: t`403 — Credentials are incorrect, GCP account is forbidden.`,
        detail: t`The service account may not write to the bucket ${bucket}.`,
        fix: [
          t`Give the service account the Storage Object Creator and Storage Object Viewer roles on the bucket ${bucket}.`,
          REGENERATE_KEY,
        ],
      };
    case 'bucketNotFound':
      return {
        headline: t`404 — The bucket ${bucket} was not found.`,
        fix: [
          t`Bucket names must match exactly: compare the bucket name in the integration with Cloud Storage › Buckets in the Google Cloud console, or create the bucket ${bucket}.`,
        ],
      };
    case 'retentionPolicyNotMet':
      return {
        headline: t`403: retentionPolicyNotMet — the bucket ${bucket} has a retention policy that prevents the export from writing.`,
        fix: [
          t`In the Google Cloud console, open Cloud Storage › Buckets › ${bucket} › Protection, and delete the retention policy.`,
          t`If the policy is locked it cannot be removed: change the integration to another bucket.`,
        ],
      };
    case 'destinationNotFound':
    case 'destinationDeleted':
      return {
        headline: t`The integration this export writes to was deleted.`,
        fix: [t`Set up the integration again with the bucket and a service account key.`],
      };
    default:
      return {
        headline: t`Google Cloud Storage refused the export to the bucket ${bucket}.`,
        fix: [
          t`Check the bucket and the service account's permissions in the Google Cloud console, then validate the integration.`,
        ],
      };
  }
}

import type { Fragment } from './mail-markup';
import { t } from './mail-markup';
import type { ErrorCodeOf } from '../error-codes';

/**
 * What a destination failure means to the customer, in the words of the product documentation ("403 — Credentials
 * are incorrect, GCP account is forbidden.", "Your Service Account Key has expired or is invalid.", "Check if the
 * bucket name is the same as in GCP.", the retention-policy FAQ's Protection-tab steps), and what they can do about
 * it. Built from the error code, the bucket name and the service account's address only: never from an error
 * message, which may carry platform internals.
 */
export interface CustomerError {
  /** What failed, one line. */
  headline: Fragment;
  /** Why, when there is more to say. */
  detail?: Fragment;
  /** The steps that fix it. */
  fix: Fragment[];
}

/** What the text names: the bucket, and the principal the export writes as when it is known. */
export interface ErrorSubject {
  bucket: string;
  /** The service account's e-mail address (client_email of its key). */
  principal?: string | undefined;
}

/** The subject of a destination: its bucket, and whom it writes as (its grant's principal, or its key's account). */
export const errorSubjectOf = (destination: {
  bucket: string;
  key?: { clientEmail: string } | undefined;
  grant?: { principal: string } | undefined;
}): ErrorSubject => ({
  bucket: destination.bucket,
  principal: destination.grant?.principal ?? destination.key?.clientEmail,
});

const who = (s: ErrorSubject): Fragment =>
  s.principal ? t`the service account ${s.principal}` : t`the service account`;

const GRANT_ROLES = (s: ErrorSubject) =>
  t`Give ${who(s)} the Storage Object Creator (roles/storage.objectCreator) and Storage Object Viewer (roles/storage.objectViewer) roles on the bucket ${s.bucket}, in Cloud Storage › Buckets › ${s.bucket} › Permissions › Grant access.`;

const REGENERATE_KEY = t`Generate the Service Account key again in the Google Cloud console (IAM & Admin › Service Accounts › Keys › Add key › JSON), then copy and paste the new key into the integration's Service Account Key field: paste the whole key file.`;

const CREDENTIALS = t`403 — Credentials are incorrect, GCP account is forbidden.`;

/** The product documentation's steps for `403: retentionPolicyNotMet`, for this bucket. */
const RETENTION_STEPS = (bucket: string) => [
  t`Open the GCP Console.`,
  t`Go to Menu › Cloud Storage › Buckets.`,
  t`Select the bucket ${bucket}.`,
  t`Go to the Protection tab.`,
  t`Check the Retention policy (for compliance) section. If any policy is active, the Edit, Delete, and Lock icons are enabled.`,
  t`Click the Delete icon to delete the retention policy. If the Delete icon is not enabled, the retention policy is locked on the bucket. In this case, you have no option but to change the bucket the export writes to.`,
];

/** One entry per destination-kind code of the catalogue: the compiler refuses a code without its text. */
const DESTINATION_ERRORS: Record<ErrorCodeOf<'destination'>, (s: ErrorSubject) => CustomerError> = {
  credentialsInvalid: () => ({
    headline: CREDENTIALS,
    detail: t`Your Service Account Key has expired or is invalid.`,
    fix: [REGENERATE_KEY],
  }),
  tokenExchangeRefused: () => ({
    headline: CREDENTIALS,
    detail: t`Your Service Account Key has expired or is invalid. Google refused to sign in with it: the key or its service account was deleted, disabled or has expired.`,
    fix: [REGENERATE_KEY],
  }),
  forbidden: (s) => ({
    headline: CREDENTIALS,
    detail: t`${capitalised(who(s))} may not write to the bucket ${s.bucket}.`,
    fix: [GRANT_ROLES(s), REGENERATE_KEY],
  }),
  missingPermissions: (s) => ({
    headline: CREDENTIALS,
    detail: t`${capitalised(who(s))} lacks storage.objects.create or storage.objects.get on the bucket ${s.bucket}.`,
    fix: [GRANT_ROLES(s)],
  }),
  bucketNotFound: (s) => ({
    headline: t`404 — The bucket ${s.bucket} was not found.`,
    fix: [
      t`Check if the bucket name is the same as in GCP. Bucket names must match exactly: compare the bucket name in the integration with Cloud Storage › Buckets in the Google Cloud console, or create the bucket ${s.bucket}.`,
    ],
  }),
  retentionPolicyNotMet: (s) => ({
    headline: t`403: retentionPolicyNotMet — the bucket ${s.bucket} has a retention policy that prevents the export from writing.`,
    detail: t`It could be because of a locked retention policy.`,
    fix: RETENTION_STEPS(s.bucket),
  }),
  destinationDeleted: () => DELETED,
  destinationRejected: (s) => ({
    headline: t`Google Cloud Storage refused the export to the bucket ${s.bucket}.`,
    fix: [
      t`Check the bucket and the service account's permissions in the Google Cloud console, then validate the integration.`,
    ],
  }),
};

function capitalised(fragment: Fragment): Fragment {
  const [first, ...rest] = fragment.parts;
  if (!first || !('literal' in first)) return fragment;
  return { parts: [{ literal: first.literal.charAt(0).toUpperCase() + first.literal.slice(1) }, ...rest] };
}

const DELETED: CustomerError = {
  headline: t`The integration this export writes to was deleted.`,
  fix: [t`Set up the integration again with the bucket and a service account key.`],
};

const isDestinationCode = (code: string): code is ErrorCodeOf<'destination'> =>
  Object.hasOwn(DESTINATION_ERRORS, code);

/** Whether the code has text of its own (false: it reads as the generic refusal of the bucket). */
export const hasOwnText = (code: string): boolean =>
  code === 'destinationNotFound' || (isDestinationCode(code) && code !== 'destinationRejected');

/** The customer's text for a failure code; a code the catalogue no longer has reads as a refusal of the bucket. */
export function customerError(code: string, subject: ErrorSubject | string): CustomerError {
  const s = typeof subject === 'string' ? { bucket: subject } : subject;
  if (code === 'destinationNotFound') return DELETED;
  return (isDestinationCode(code) ? DESTINATION_ERRORS[code] : DESTINATION_ERRORS.destinationRejected)(s);
}

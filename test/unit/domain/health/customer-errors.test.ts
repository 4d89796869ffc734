import { ERROR_CODES } from '../../../../shared/domain/error-codes';
import type { ErrorCode } from '../../../../shared/domain/error-codes';
import { customerError, errorSubjectOf, hasOwnText } from '../../../../shared/domain/health/customer-errors';
import type { Fragment } from '../../../../shared/domain/health/mail-markup';
import { renderText } from '../../../../shared/domain/health/mail-markup';

/** A fragment (or a list of them) as the plain text a customer reads. */
const text = (fragment: Fragment | readonly Fragment[] | undefined): string =>
  fragment === undefined
    ? ''
    : renderText(
        (Array.isArray(fragment) ? (fragment as readonly Fragment[]) : [fragment as Fragment]).map((f) => ({
          kind: 'paragraph' as const,
          text: f,
        })),
      );
const whole = (code: string, principal?: string) => {
  const e = customerError(code, { bucket: 'customer-bucket', principal });
  return `${text(e.headline)}\n${text(e.detail)}\n${text(e.fix)}`;
};
const DESTINATION_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
  (code) => ERROR_CODES[code].kind === 'destination',
);
const GENERIC = text(customerError('destinationRejected', 'b').headline);

describe('customer errors: every destination error in the product documentation words', () => {
  it.each(DESTINATION_CODES.filter((code) => code !== 'destinationRejected'))(
    '%s has its own text, not the generic refusal',
    (code) => {
      const error = customerError(code, 'customer-bucket');
      expect(text(error.headline)).not.toBe(GENERIC);
      expect(whole(code)).not.toContain('refused the export');
      expect(error.fix.length).toBeGreaterThan(0);
      expect(hasOwnText(code)).toBe(true);
    },
  );

  it('only destinationRejected (and codes the catalogue does not have) read as the generic refusal', () => {
    expect(hasOwnText('destinationRejected')).toBe(false);
    expect(hasOwnText('somethingNew')).toBe(false);
    expect(text(customerError('somethingNew', 'b').headline)).toBe(GENERIC);
  });

  it.each(['credentialsInvalid', 'tokenExchangeRefused', 'forbidden', 'missingPermissions'])(
    "%s says the doc's 403 sentence",
    (code) => {
      expect(text(customerError(code, 'b').headline)).toContain(
        '403 — Credentials are incorrect, GCP account is forbidden.',
      );
    },
  );

  it.each(['credentialsInvalid', 'tokenExchangeRefused'])(
    "%s gives the doc's cause and tells the customer to generate the key again and paste it",
    (code) => {
      const all = whole(code);
      expect(all).toContain('Your Service Account Key has expired or is invalid.');
      expect(all).toContain('Generate the Service Account key again');
      expect(all).toContain('copy and paste the new key into the');
      expect(all).toContain('paste the whole key file');
    },
  );

  it('names the roles, the bucket and the principal when permissions are missing', () => {
    const fix = text(
      customerError('missingPermissions', {
        bucket: 'customer-bucket',
        principal: 'x@p.iam.gserviceaccount.com',
      }).fix,
    );
    expect(fix).toContain('roles/storage.objectCreator');
    expect(fix).toContain('roles/storage.objectViewer');
    expect(fix).toContain('on the bucket customer-bucket');
    expect(fix).toContain('Give the service account x@p.iam.gserviceaccount.com the');
    // Without a known principal it still says who.
    expect(text(customerError('missingPermissions', 'b').fix)).toContain('Give the service account the');
  });

  it('says, as the doc does, to check that the bucket name is the same: names must match exactly', () => {
    const fix = text(customerError('bucketNotFound', 'b').fix);
    expect(fix).toContain('Check if the bucket name is the same as in GCP.');
    expect(fix).toContain('Bucket names must match exactly');
  });

  it("gives the doc's Protection-tab steps for retentionPolicyNotMet, in order", () => {
    const error = customerError('retentionPolicyNotMet', 'customer-bucket');
    expect(text(error.headline)).toContain('403: retentionPolicyNotMet');
    expect(text(error.detail)).toBe('It could be because of a locked retention policy.\n');
    expect(error.fix.map((f) => text(f).trim())).toEqual([
      'Open the GCP Console.',
      'Go to Menu › Cloud Storage › Buckets.',
      'Select the bucket customer-bucket.',
      'Go to the Protection tab.',
      'Check the Retention policy (for compliance) section. If any policy is active, the Edit, Delete, and Lock icons are enabled.',
      'Click the Delete icon to delete the retention policy. If the Delete icon is not enabled, the retention policy is locked on the bucket. In this case, you have no option but to change the bucket the export writes to.',
    ]);
  });

  it.each(['destinationDeleted', 'destinationNotFound'])('%s says the integration was deleted', (code) => {
    expect(whole(code)).toContain('The integration this export writes to was deleted.');
    expect(whole(code)).toContain('Set up the integration again');
  });

  it("names whom the destination writes as: a grant's principal, else its key's service account", () => {
    const key = { clientEmail: 'key@p.iam.gserviceaccount.com' };
    expect(errorSubjectOf({ bucket: 'b', key })).toEqual({ bucket: 'b', principal: key.clientEmail });
    expect(errorSubjectOf({ bucket: 'b', grant: { principal: 'gx@pool.iam.gserviceaccount.com' } })).toEqual({
      bucket: 'b',
      principal: 'gx@pool.iam.gserviceaccount.com',
    });
    expect(errorSubjectOf({ bucket: 'b' })).toEqual({ bucket: 'b', principal: undefined });
  });
});

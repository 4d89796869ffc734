import { ERROR_CODES } from '../../../../shared/domain/error-codes';
import type { ErrorCode } from '../../../../shared/domain/error-codes';
import { customerError } from '../../../../shared/domain/health/customer-errors';
import type { Fragment } from '../../../../shared/domain/health/mail-markup';

const text = (fragment: Fragment | readonly Fragment[] | undefined): string => JSON.stringify(fragment ?? '');
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
      expect(error.fix.length).toBeGreaterThan(0);
    },
  );

  it.each(['credentialsInvalid', 'tokenExchangeRefused', 'forbidden', 'missingPermissions'])(
    "%s says the doc's 403 sentence",
    (code) => {
      expect(text(customerError(code, 'b').headline)).toContain(
        '403 — Credentials are incorrect, GCP account is forbidden.',
      );
    },
  );

  it.each(['credentialsInvalid', 'tokenExchangeRefused'])(
    '%s tells the customer to generate the key again',
    (code) => {
      expect(text(customerError(code, 'b').fix)).toContain('paste the whole key file into the integration');
    },
  );

  it('names the roles and the bucket when permissions are missing', () => {
    const fix = text(customerError('missingPermissions', 'customer-bucket').fix);
    expect(fix).toContain('roles/storage.objectCreator');
    expect(fix).toContain('roles/storage.objectViewer');
    expect(fix).toContain('customer-bucket');
  });

  it('says bucket names must match exactly, as the doc does', () => {
    expect(text(customerError('bucketNotFound', 'b').fix)).toContain('Bucket names must match exactly');
  });
});

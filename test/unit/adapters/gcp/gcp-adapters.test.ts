import { randomBytes } from 'node:crypto';
import { AesGcmCipher } from '../../../../shared/adapters/crypto/aes-gcm-cipher';
import { GcsDestinationStores } from '../../../../shared/adapters/gcp/gcs-destination-stores';
import { DEFAULT_STORAGE_RETRY, DEFAULT_UPLOAD_OPTIONS } from '../../../../shared/config';
import { toStorageFailure } from '../../../../shared/adapters/gcp/storage-errors';
import { keyBindingOf } from '../../../../shared/domain/destinations/destination.schema';
import { StorageFailure, TOKEN_REFUSED } from '../../../../shared/ports/bucket-store.port';
import { serviceAccountKey } from '../../../support/service-account-key';

describe('toStorageFailure', () => {
  it.each([
    [
      'a JSON API error',
      Object.assign(new Error('No such object'), { code: 404, errors: [{ reason: 'notFound' }] }),
      404,
      'notFound',
    ],
    [
      'a retention policy refusal',
      Object.assign(new Error('retention'), { code: 403, errors: [{ reason: 'retentionPolicyNotMet' }] }),
      403,
      'retentionPolicyNotMet',
    ],
    ['a precondition failure', Object.assign(new Error('pre'), { code: 412 }), 412, 'unknown'],
    [
      'a revoked key at the token endpoint',
      Object.assign(new Error('invalid_grant'), {
        response: {
          status: 400,
          data: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
        },
      }),
      401,
      TOKEN_REFUSED,
    ],
    [
      'an overloaded token endpoint (worth a retry)',
      Object.assign(new Error('unavailable'), {
        response: { status: 503, data: { error: 'temporarily_unavailable' } },
      }),
      503,
      'temporarily_unavailable',
    ],
    [
      'a reset connection',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      0,
      'ECONNRESET',
    ],
    ['something else', new Error('odd'), 0, 'unknown'],
  ])('maps %s to its status and reason', (_name, error, status, reason) => {
    const failure = toStorageFailure(error, 'writing gs://b/o');
    expect(failure).toBeInstanceOf(StorageFailure);
    expect({ status: failure.status, reason: failure.reason }).toEqual({ status, reason });
    expect(failure.message).toMatch(/^writing gs:\/\/b\/o: /);
  });

  it('never puts the token endpoint answer beyond its error code into the message', () => {
    const failure = toStorageFailure(
      { response: { status: 400, data: { error: 'invalid_grant', error_description: 'secret detail' } } },
      'x',
    );
    expect(failure.message).not.toContain('secret detail');
  });
});

describe('GcsDestinationStores', () => {
  const cipher = new AesGcmCipher(randomBytes(32));
  const stores = new GcsDestinationStores({
    cipher,
    retry: DEFAULT_STORAGE_RETRY,
    upload: DEFAULT_UPLOAD_OPTIONS,
  });
  const destination = async (accountId: string, destinationId: string, version: number, keyText: string) => ({
    accountId,
    destinationId,
    bucket: 'customer-bucket',
    key: { ciphertext: await cipher.encrypt(keyText, keyBindingOf(accountId, destinationId)), version },
  });

  it('builds one client per stored key, and a new one after a rotation', async () => {
    const key = serviceAccountKey();
    const v1 = await destination('acct', 'dest', 1, key);
    const first = await stores.forDestination(v1);
    expect(await stores.forDestination(v1)).toBe(first);
    expect(await stores.forDestination(await destination('acct', 'dest', 2, serviceAccountKey()))).not.toBe(
      first,
    );
    expect(await stores.forDestination(await destination('acct', 'other', 1, key))).not.toBe(first);
  });

  it('never reuses a client for a destination deleted and registered again with another key (version 1 again)', async () => {
    const before = await stores.forDestination(await destination('acct', 'again', 1, serviceAccountKey()));
    const after = await stores.forDestination(await destination('acct', 'again', 1, serviceAccountKey()));
    expect(after).not.toBe(before);
  });

  it("refuses a ciphertext moved onto another account's destination, and a destination without a key", async () => {
    const stolen = await destination('acct-a', 'dest', 1, serviceAccountKey());
    await expect(stores.forDestination({ ...stolen, accountId: 'acct-b' })).rejects.toThrow(
      'could not be decrypted',
    );
    await expect(
      stores.forDestination({ accountId: 'acct', destinationId: 'keyless', bucket: 'b' }),
    ).rejects.toMatchObject({ status: 401, reason: 'missingKey' });
  });
});

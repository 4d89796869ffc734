import { createCipheriv, randomBytes } from 'node:crypto';
import { AesGcmCipher, kekIdOf } from '../../../../shared/adapters/crypto/aes-gcm-cipher';

const BINDING = 'destinations/acct~dest';

/** A ciphertext in the v2 layout sealed by hand, so a test can choose what the cipher itself never produces. */
function sealByHand(key: Buffer, options: { tagBytes: number; aad: string; keyId?: string }): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: options.tagBytes });
  cipher.setAAD(Buffer.from(options.aad));
  const sealed = Buffer.concat([cipher.update('secret key text', 'utf8'), cipher.final()]);
  const body = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
  return `v2.${options.keyId ?? kekIdOf(key)}.${body}`;
}

describe('AesGcmCipher', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('seals as v2.{keyId}.… and opens its own ciphertexts', async () => {
    const cipher = new AesGcmCipher(newKey);
    const sealed = await cipher.encrypt('secret key text', BINDING);
    expect(sealed.startsWith(`v2.${kekIdOf(newKey)}.`)).toBe(true);
    expect(sealed).not.toContain('secret');
    expect(await cipher.decrypt(sealed, BINDING)).toBe('secret key text');
    expect(cipher.isCurrent(sealed)).toBe(true);
  });

  it('opens ciphertexts of a previous key after a rotation, and knows they need re-wrapping', async () => {
    const sealed = await new AesGcmCipher(oldKey).encrypt('secret key text', BINDING);
    const rotated = new AesGcmCipher(newKey, [oldKey]);
    expect(await rotated.decrypt(sealed, BINDING)).toBe('secret key text');
    expect(rotated.isCurrent(sealed)).toBe(false);
    await expect(new AesGcmCipher(newKey).decrypt(sealed, BINDING)).rejects.toThrow(
      /unknown key-encryption key/,
    );
  });

  it('binds the ciphertext to its destination, its format and its key id (associated data)', async () => {
    const cipher = new AesGcmCipher(newKey, [oldKey]);
    const sealed = await cipher.encrypt('secret key text', BINDING);
    await expect(cipher.decrypt(sealed, 'destinations/other~dest')).rejects.toThrow(/could not be decrypted/);
    // The same key under another id: the id is authenticated, so relabelling fails.
    const relabelled = new AesGcmCipher(newKey, [newKey, oldKey]);
    const forged = sealByHand(newKey, {
      tagBytes: 16,
      aad: `v2\n${kekIdOf(newKey)}\n${BINDING}`,
      keyId: kekIdOf(oldKey),
    });
    await expect(relabelled.decrypt(forged, BINDING)).rejects.toThrow(/could not be decrypted/);
    const withoutVersion = sealByHand(newKey, { tagBytes: 16, aad: BINDING });
    await expect(cipher.decrypt(withoutVersion, BINDING)).rejects.toThrow(/could not be decrypted/);
  });

  it('accepts only 16-byte GCM tags', async () => {
    const cipher = new AesGcmCipher(newKey);
    const aad = `v2\n${kekIdOf(newKey)}\n${BINDING}`;
    expect(await cipher.decrypt(sealByHand(newKey, { tagBytes: 16, aad }), BINDING)).toBe('secret key text');
    await expect(cipher.decrypt(sealByHand(newKey, { tagBytes: 4, aad }), BINDING)).rejects.toThrow(
      /could not be decrypted/,
    );
    await expect(cipher.decrypt(`v2.${kekIdOf(newKey)}.AAAA`, BINDING)).rejects.toThrow(
      /could not be decrypted/,
    );
  });

  it('still opens v1 ciphertexts (no key id) with any configured key', async () => {
    const iv = randomBytes(12);
    const legacy = createCipheriv('aes-256-gcm', oldKey, iv);
    legacy.setAAD(Buffer.from(BINDING));
    const sealed = Buffer.concat([legacy.update('secret key text', 'utf8'), legacy.final()]);
    const v1 = `v1.${Buffer.concat([iv, legacy.getAuthTag(), sealed]).toString('base64')}`;
    const rotated = new AesGcmCipher(newKey, [oldKey]);
    expect(await rotated.decrypt(v1, BINDING)).toBe('secret key text');
    expect(rotated.isCurrent(v1)).toBe(false);
  });
});

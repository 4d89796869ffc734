import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretCipher } from '../../ports/secret-cipher.port';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a key-encryption key held outside the database (Secret Manager in production, a local key
 * file in local runs). The associated data binds a ciphertext to its destination, so a ciphertext copied onto
 * another destination does not decrypt.
 */
export class AesGcmCipher implements SecretCipher {
  private readonly key: Buffer;

  constructor(keyEncryptionKey: Buffer) {
    if (keyEncryptionKey.length !== 32) throw new Error('the key-encryption key must be 32 bytes (AES-256)');
    this.key = Buffer.from(keyEncryptionKey);
  }

  encrypt(plaintext: string, associatedData: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Promise.resolve(
      `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`,
    );
  }

  decrypt(ciphertext: string, associatedData: string): Promise<string> {
    const [version, body] = ciphertext.split('.');
    if (version !== VERSION || !body) return Promise.reject(new Error('unsupported ciphertext format'));
    const bytes = Buffer.from(body, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return Promise.resolve(plain.toString('utf8'));
    } catch {
      return Promise.reject(new Error('secret could not be decrypted (wrong key or tampered ciphertext)'));
    }
  }
}

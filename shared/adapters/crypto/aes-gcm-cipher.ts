import type { DecipherGCM } from 'node:crypto';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretCipher } from '../../ports/secret-cipher.port';

const VERSION = 'v2';
/** Ciphertexts before key ids: `v1.{base64(iv|tag|sealed)}`, the destination binding alone as associated data. */
const LEGACY_VERSION = 'v1';
const IV_BYTES = 12;
/** Pinned: GCM accepts shorter tags, which would make forging a ciphertext easier. */
const TAG_BYTES = 16;

/** A key-encryption key's id: derived from the key, so it can never name the wrong one, and reveals nothing of it. */
export const kekIdOf = (key: Buffer): string =>
  createHash('sha256').update('gcs-export key-encryption key\n').update(key).digest('hex').slice(0, 16);

/** The associated data: the format version and key id are authenticated with the binding. */
const associated = (keyId: string, binding: string): Buffer =>
  Buffer.from(`${VERSION}\n${keyId}\n${binding}`);

function assertKek(key: Buffer): Buffer {
  if (key.length !== 32) throw new Error('a key-encryption key must be 32 bytes (AES-256)');
  return Buffer.from(key);
}

const undecryptable = () => new Error('secret could not be decrypted (wrong key or tampered ciphertext)');

/**
 * AES-256-GCM with key-encryption keys held outside the database (Secret Manager in production, a local key file in
 * local runs). A ciphertext is `v2.{keyId}.{base64(iv | 16-byte tag | sealed)}`; its associated data binds it to
 * its destination, its format and its key id, so it opens on no other destination. Rotation: the new key is
 * current, the old ones stay as previous keys until every ciphertext is re-wrapped under the current one.
 */
export class AesGcmCipher implements SecretCipher {
  private readonly currentId: string;
  private readonly current: Buffer;
  private readonly byId = new Map<string, Buffer>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.current = assertKek(current);
    this.currentId = kekIdOf(this.current);
    for (const key of [this.current, ...previous.map(assertKek)]) this.byId.set(kekIdOf(key), key);
  }

  /** The id of the key new ciphertexts are sealed with. */
  get keyId(): string {
    return this.currentId;
  }

  encrypt(plaintext: string, associatedData: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associated(this.currentId, associatedData));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const body = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
    return Promise.resolve(`${VERSION}.${this.currentId}.${body}`);
  }

  decrypt(ciphertext: string, associatedData: string): Promise<string> {
    try {
      return Promise.resolve(this.open(ciphertext, associatedData));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : undecryptable());
    }
  }

  isCurrent(ciphertext: string): boolean {
    return ciphertext.startsWith(`${VERSION}.${this.currentId}.`);
  }

  private open(ciphertext: string, binding: string): string {
    const parts = ciphertext.split('.');
    if (parts[0] === VERSION && parts.length === 3) {
      const [, keyId = '', body = ''] = parts;
      const key = this.byId.get(keyId);
      if (!key) throw new Error(`secret is sealed under an unknown key-encryption key (id ${keyId})`);
      return unseal(key, body, associated(keyId, binding));
    }
    if (parts[0] === LEGACY_VERSION && parts.length === 2) {
      // No key id: try every configured key; the tag tells which one sealed it.
      for (const key of this.byId.values()) {
        try {
          return unseal(key, parts[1] ?? '', Buffer.from(binding));
        } catch {
          // the next key
        }
      }
      throw undecryptable();
    }
    throw new Error('unsupported ciphertext format');
  }
}

function unseal(key: Buffer, body: string, aad: Buffer): string {
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw undecryptable();
  const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw undecryptable();
  }
}

/**
 * The cipher of a function that was given no key-encryption key (only the functions that decrypt keys get one):
 * any use is a deployment mistake, reported as such.
 */
export const missingKekCipher: SecretCipher = {
  encrypt: () => Promise.reject(new Error('GCS_EXPORT_KEK is not configured for this function')),
  decrypt: () => Promise.reject(new Error('GCS_EXPORT_KEK is not configured for this function')),
  isCurrent: () => false,
};

import type { BucketStore, DestinationStores } from '../../ports/bucket-store.port';
import { StorageFailure } from '../../ports/bucket-store.port';
import type { SecretCipher } from '../../ports/secret-cipher.port';
import type { PrincipalDirectory } from '../../ports/principals.port';
import { keyBindingOf, parseServiceAccountKey } from '../../domain/destinations/destination.schema';
import type { GcsUploadOptions } from './gcs-bucket-store';
import { GcsBucketStore } from './gcs-bucket-store';
import { createHash } from 'node:crypto';
import type { CustomerAuthSettings, StorageRetrySettings } from './storage-clients';
import { customerStorage, principalStorage } from './storage-clients';

type DestinationRef = Parameters<DestinationStores['forDestination']>[0];

const MAX_CACHED_CLIENTS = 256;

export interface GcsDestinationStoresOptions {
  cipher: SecretCipher;
  retry: StorageRetrySettings;
  upload: GcsUploadOptions;
  auth?: CustomerAuthSettings;
  /** Grant destinations act as their account's principal, with tokens minted through this directory. */
  principals?: PrincipalDirectory;
}

/**
 * The cache key of a destination's client: what its credentials are (the ciphertext, bound to its destination), so
 * that a rotated, re-wrapped or deleted-and-registered-again key can never reuse a client built from another key.
 */
const credentialsKey = (binding: string, ciphertext: string): string =>
  createHash('sha256').update(binding).update('\n').update(ciphertext).digest('hex');

/**
 * One Storage client per stored key, built from the customer's key decrypted in memory. A new key has a new
 * ciphertext, so the next chunk builds a new client and the old one ages out of the cache.
 */
export class GcsDestinationStores implements DestinationStores {
  private readonly cache = new Map<string, Promise<BucketStore>>();
  private readonly principalStores = new Map<string, BucketStore>();

  constructor(private readonly options: GcsDestinationStoresOptions) {}

  forDestination(destination: DestinationRef): Promise<BucketStore> {
    const { key, grant } = destination;
    if (!key && grant) return Promise.resolve(this.forPrincipal(grant.principal));
    if (!key) {
      // Never fall back to the platform's own identity in a customer's bucket.
      return Promise.reject(
        new StorageFailure(
          401,
          'missingKey',
          `destination ${destination.destinationId} has no service-account key`,
        ),
      );
    }
    const cacheKey = credentialsKey(
      keyBindingOf(destination.accountId, destination.destinationId),
      key.ciphertext,
    );
    const cached = this.cache.get(cacheKey);
    if (cached) {
      // Map order is insertion order: re-inserting marks the entry as recently used.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, cached);
      return cached;
    }
    const built = this.build(destination, key.ciphertext);
    this.cache.set(cacheKey, built);
    built.catch(() => this.cache.delete(cacheKey));
    while (this.cache.size > MAX_CACHED_CLIENTS) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return built;
  }

  private async build(destination: DestinationRef, ciphertext: string): Promise<BucketStore> {
    const keyText = await this.options.cipher.decrypt(
      ciphertext,
      keyBindingOf(destination.accountId, destination.destinationId),
    );
    return this.forKeyText(keyText);
  }

  /**
   * A store acting as an account principal: one client per principal (its tokens are cached per principal by the
   * directory), kept in the same bounded cache as the key clients.
   */
  forPrincipal(principal: string): BucketStore {
    const { principals } = this.options;
    if (!principals)
      throw new StorageFailure(
        401,
        'missingKey',
        'grant destinations are not configured (PRINCIPALS_PROJECTS)',
      );
    const cacheKey = `principal\n${principal}`;
    const cached = this.principalStores.get(cacheKey);
    if (cached) {
      this.principalStores.delete(cacheKey);
      this.principalStores.set(cacheKey, cached);
      return cached;
    }
    const store = new GcsBucketStore(
      principalStorage(() => principals.mintToken(principal), this.options.retry, this.options.auth),
      this.options.upload,
    );
    this.principalStores.set(cacheKey, store);
    while (this.principalStores.size > MAX_CACHED_CLIENTS) {
      const oldest = this.principalStores.keys().next().value;
      if (oldest === undefined) break;
      this.principalStores.delete(oldest);
    }
    return store;
  }

  /** A store acting with a key that is not saved yet (registration and rotation check the bucket with it). */
  forKeyText(keyText: string): BucketStore {
    const key = parseServiceAccountKey(keyText);
    if (!key.ok) throw new StorageFailure(401, 'invalidKey', 'the stored service-account key is not valid');
    return new GcsBucketStore(
      customerStorage(key.value, this.options.retry, this.options.auth),
      this.options.upload,
    );
  }
}

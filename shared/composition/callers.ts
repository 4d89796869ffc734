import { AesGcmCipher, missingKekCipher } from '../adapters/crypto/aes-gcm-cipher';
import { IdTokenCallers } from '../adapters/gcp/id-token-callers';
import { BearerTokenCallers, noCallers } from '../adapters/local/bearer-token-callers';
import type { ApiCallers, KeyEncryptionKeys } from '../config';
import type { CallerVerifier } from '../ports/api-callers.port';
import type { SecretCipher } from '../ports/secret-cipher.port';

/** ID tokens in production, the shared token locally, and a closed API when neither is configured. */
export function callerVerifier(api: ApiCallers): CallerVerifier {
  if (api.idTokens) return new IdTokenCallers(api.idTokens);
  if (api.bearerToken) return new BearerTokenCallers(api.bearerToken);
  return noCallers;
}

/** The cipher of customers' keys; a function given no key-encryption key fails on first use, loudly. */
export const cipherFor = (keys: KeyEncryptionKeys | undefined): SecretCipher =>
  keys ? new AesGcmCipher(keys.current, keys.previous) : missingKekCipher;

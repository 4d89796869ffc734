/** Envelope encryption of customers' secrets at rest. Plaintext only ever lives in memory. */
export interface SecretCipher {
  encrypt(plaintext: string, associatedData: string): Promise<string>;
  decrypt(ciphertext: string, associatedData: string): Promise<string>;
  /** Whether the ciphertext is sealed under the current key-encryption key (false: re-wrap it). */
  isCurrent(ciphertext: string): boolean;
}

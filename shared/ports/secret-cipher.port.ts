/** Envelope encryption of customers' secrets at rest. Plaintext only ever lives in memory. */
export interface SecretCipher {
  encrypt(plaintext: string, associatedData: string): Promise<string>;
  decrypt(ciphertext: string, associatedData: string): Promise<string>;
}

import { generateKeyPairSync } from 'node:crypto';

/** A service-account key file shaped exactly like Google's, with a fresh RSA key (it opens no real account). */
export function serviceAccountKey(
  options: { tokenUri?: string; clientEmail?: string; projectId?: string } = {},
): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return JSON.stringify({
    type: 'service_account',
    project_id: options.projectId ?? 'customer-project',
    private_key_id: 'a'.repeat(40),
    private_key: privateKey,
    client_email: options.clientEmail ?? 'exporter@customer-project.iam.gserviceaccount.com',
    client_id: '1234567890',
    token_uri: options.tokenUri ?? 'https://oauth2.googleapis.com/token',
  });
}

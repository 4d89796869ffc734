import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Google ID tokens signed here: a local "Google" with its own signing key, whose certificates are served the way
 * https://www.googleapis.com/oauth2/v1/certs serves them (a JSON map of key id → PEM). The verifier under test is
 * google-auth-library itself, pointed at this URL instead of Google's (API_ID_TOKEN_CERTS_URL).
 */
export interface LocalGoogle {
  certsUrl: string;
  /** An ID token as Google mints it for a service account (fields overridable to forge bad ones). */
  idToken(claims: { email: string; audience: string } & Record<string, unknown>): string;
  /** A token signed by a key Google never published. */
  foreignToken(claims: { email: string; audience: string }): string;
  close(): Promise<void>;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function keyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

export async function startLocalGoogle(): Promise<LocalGoogle> {
  const kid = randomBytes(20).toString('hex');
  const google = keyPair();
  const stranger = keyPair();
  const server: Server = createServer((_req, res) => {
    const body = JSON.stringify({ [kid]: google.publicKey });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=3600' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const mint = (
    privateKey: string,
    claims: { email: string; audience: string } & Record<string, unknown>,
  ) => {
    const now = Math.floor(Date.now() / 1000);
    const { email, audience, ...rest } = claims;
    const head = b64url({ alg: 'RS256', kid, typ: 'JWT' });
    const payload = b64url({
      iss: 'https://accounts.google.com',
      aud: audience,
      azp: '1234567890',
      sub: '1234567890',
      email,
      email_verified: true,
      iat: now,
      exp: now + 3600,
      ...rest,
    });
    const signature = sign('RSA-SHA256', Buffer.from(`${head}.${payload}`), privateKey).toString('base64url');
    return `${head}.${payload}.${signature}`;
  };
  return {
    certsUrl: `http://127.0.0.1:${port}/oauth2/v1/certs`,
    idToken: (claims) => mint(google.privateKey, claims),
    foreignToken: (claims) => mint(stranger.privateKey, claims),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

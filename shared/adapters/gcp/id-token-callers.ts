import { OAuth2Client } from 'google-auth-library';
import type { ApiRole, CallerCheck, CallerVerifier } from '../../ports/api-callers.port';
import { bearerToken } from '../../ports/api-callers.port';

export interface IdTokenCallersOptions {
  /** Service accounts allowed to call (the platform's). */
  emails: readonly string[];
  /** Service accounts allowed to call the admin routes (API_OPERATORS): operators, not the platform. */
  operators?: readonly string[];
  /** What the token must be minted for: the api function's URL. */
  audience: string;
  /** Google's signing certificates (PEM); only emulated setups point elsewhere. */
  certsUrl?: string;
}

/** Google's ID tokens name one of these issuers. */
const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

/**
 * Verifies Google-signed ID tokens with google-auth-library: signature against Google's published certificates
 * (cached by the library per their Cache-Control), issuer, audience, expiry; then the e-mail must be verified and
 * one of the configured service accounts. Cloud Run IAM checks the same token before us; this check keeps the API
 * closed when an invoker binding is wider than it should be.
 */
export class IdTokenCallers implements CallerVerifier {
  private readonly client: OAuth2Client;

  constructor(private readonly options: IdTokenCallersOptions) {
    this.client = new OAuth2Client({
      ...(options.certsUrl ? { endpoints: { oauth2FederatedSignonPemCertsUrl: options.certsUrl } } : {}),
      // Node's own fetch: gaxios would otherwise load node-fetch, an ES module, on the first request.
      transporterOptions: { fetchImplementation: fetch },
    });
  }

  async verify(authorization: string | undefined): Promise<CallerCheck> {
    const token = bearerToken(authorization);
    if (!token) return { ok: false, reason: 'unauthenticated', detail: 'no bearer token' };
    // Fetching the certificates may fail for reasons of ours (network): that throws, and is no 401.
    const { certs } = await this.client.getFederatedSignonCertsAsync();
    let email: string | undefined;
    let verified = false;
    try {
      const ticket = await this.client.verifySignedJwtWithCertsAsync(
        token,
        certs,
        this.options.audience,
        GOOGLE_ISSUERS,
      );
      const payload = ticket.getPayload();
      email = payload?.email;
      verified = payload?.email_verified === true;
    } catch {
      return { ok: false, reason: 'unauthenticated', detail: 'the ID token is not valid for this API' };
    }
    if (!email || !verified)
      return { ok: false, reason: 'unauthenticated', detail: 'the ID token carries no verified e-mail' };
    const roles: ApiRole[] = [
      ...(this.options.emails.includes(email) ? (['platform'] as const) : []),
      ...(this.options.operators?.includes(email) ? (['operator'] as const) : []),
    ];
    if (roles.length === 0)
      return { ok: false, reason: 'forbidden', detail: `${email} is not an allowed caller` };
    return { ok: true, caller: { kind: 'service-account', id: email, roles } };
  }
}

import { randomBytes } from 'node:crypto';
import type { Clock } from '../../ports/clock.port';
import type { AccessToken, PrincipalDirectory, PrincipalSpec } from '../../ports/principals.port';

/** How long a local token lives: an hour, like the tokens of generateAccessToken. */
const TOKEN_LIFETIME_MS = 3_600_000;

/**
 * Account principals of local runs: service-account e-mails in the configured principals project, with nothing to
 * create (the local bucket store checks a bucket's IAM policy by e-mail). Tokens are opaque random strings, issued
 * only for principals this directory created; they prove nothing outside this process.
 */
export class LocalPrincipals implements PrincipalDirectory {
  private readonly known = new Set<string>();
  /** Service accounts created, in order (tests count them). */
  readonly created: string[] = [];

  constructor(private readonly clock: Clock) {}

  ensure(spec: PrincipalSpec): Promise<string> {
    const email = `${spec.id}@${spec.projectId}.iam.gserviceaccount.com`;
    if (!this.known.has(email)) {
      this.known.add(email);
      this.created.push(email);
    }
    return Promise.resolve(email);
  }

  mintToken(email: string): Promise<AccessToken> {
    if (!this.known.has(email))
      return Promise.reject(new Error('no such principal: it was never created by this directory'));
    return Promise.resolve({
      token: `local-${randomBytes(16).toString('hex')}`,
      expiresAt: new Date(this.clock.now().getTime() + TOKEN_LIFETIME_MS),
    });
  }
}

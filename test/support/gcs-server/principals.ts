// Who a request acts as, and what it may do: service accounts registered by tests with their key and IAM
// permissions per bucket, OAuth token exchanges signed by those keys (the JWT bearer grant Google's token endpoint
// answers), and the access tokens it issues. A request without an Authorization header is anonymous and may do
// everything, as before principals existed (the platform's own clients in tests do not authenticate).
import type { KeyObject } from 'node:crypto';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from '../../../shared/domain/zod';
import { GcsError } from './errors';
import { header } from './http';
import { BucketIam, impersonatedToken } from './iam';

/** The audiences a Google client signs its assertion for (google-auth-library's gtoken versions differ). */
const TOKEN_AUDIENCES = ['https://oauth2.googleapis.com/token', 'https://www.googleapis.com/oauth2/v4/token'];

interface Account {
  email: string;
  publicKey: KeyObject;
  /** bucket → permissions held on it */
  permissions: Map<string, Set<string>>;
  refuseTokens: boolean;
}

export interface ServiceAccountGrant {
  /** The key file's JSON, as a test generated it (serviceAccountKey()). */
  keyText: string;
  /** Permissions per bucket, e.g. { 'customer-bucket': ['storage.objects.create'] }. */
  permissions: Record<string, readonly string[]>;
  /** The token endpoint answers invalid_grant, as it does for a deleted or disabled key. */
  refuseTokens?: boolean;
}

/** Who a request acts as: anyone (no Authorization header) or one service account. */
export type Principal = { kind: 'anonymous' } | { kind: 'account'; email: string };

const keyFileSchema = z.object({ client_email: z.string(), private_key: z.string() }).loose();
const claimsSchema = z.object({ iss: z.string(), aud: z.string(), exp: z.number() }).loose();

export interface TokenAnswer {
  status: number;
  body: unknown;
}

const refusal = (description: string): TokenAnswer => ({
  status: 400,
  body: { error: 'invalid_grant', error_description: description },
});

export class Principals {
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, string>();
  /** Token exchanges answered, by service account e-mail (granted or refused). */
  readonly exchanges: { email: string; granted: boolean }[] = [];
  /** Buckets' IAM policies, and service accounts created and impersonated through the IAM APIs. */
  readonly iam = new BucketIam((email) => {
    const token = impersonatedToken();
    this.tokens.set(token, email);
    return token;
  });

  register(grant: ServiceAccountGrant): string {
    const key = keyFileSchema.parse(JSON.parse(grant.keyText));
    this.accounts.set(key.client_email, {
      email: key.client_email,
      publicKey: createPublicKey(key.private_key),
      permissions: new Map(Object.entries(grant.permissions).map(([b, p]) => [b, new Set(p)])),
      refuseTokens: grant.refuseTokens ?? false,
    });
    return key.client_email;
  }

  /** The JWT bearer grant (RFC 7523): the assertion must be signed by the registered key of its issuer. */
  exchange(form: Buffer, nowMs: number): TokenAnswer {
    const params = new URLSearchParams(form.toString('utf8'));
    if (params.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    const [head, payload, signature] = (params.get('assertion') ?? '').split('.');
    if (!head || !payload || !signature) return refusal('Invalid JWT.');
    const claims = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    const account = claims.success ? this.accounts.get(claims.data.iss) : undefined;
    if (!claims.success || !account) return refusal('Invalid grant: account not found');
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${head}.${payload}`),
      account.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    const valid =
      signed &&
      TOKEN_AUDIENCES.includes(claims.data.aud) &&
      claims.data.exp * 1000 > nowMs &&
      !account.refuseTokens;
    this.exchanges.push({ email: account.email, granted: valid });
    if (!valid) return refusal('Invalid JWT Signature.');
    const token = `ya29.test-${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, account.email);
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
  }

  /** The request's principal; an unknown or malformed bearer token is Google's 401. */
  of(req: IncomingMessage): Principal {
    const authorization = header(req, 'authorization');
    if (authorization === undefined) return { kind: 'anonymous' };
    const email = this.tokens.get(/^Bearer (\S+)$/.exec(authorization)?.[1] ?? '');
    if (email === undefined)
      throw new GcsError(401, 'authError', 'Invalid Credentials', {
        locationType: 'header',
        location: 'Authorization',
      });
    return { kind: 'account', email };
  }

  /** The subset of `permissions` the principal holds on the bucket: as registered with its key, or by the policy. */
  held(principal: Principal, bucket: string, permissions: readonly string[]): string[] {
    if (principal.kind === 'anonymous') return [...permissions];
    const granted = this.accounts.get(principal.email)?.permissions.get(bucket);
    const byPolicy = this.iam.held(bucket, principal.email);
    return permissions.filter(
      (permission) => (granted?.has(permission) ?? false) || byPolicy.has(permission),
    );
  }

  /** Google's 403 when the principal lacks the permission on the bucket. */
  check(principal: Principal, bucket: string, permission: string, what: string): void {
    if (this.held(principal, bucket, [permission]).length === 1) return;
    const who = principal.kind === 'account' ? principal.email : 'anonymous';
    throw new GcsError(403, 'forbidden', `${who} does not have ${permission} access to ${what}.`);
  }
}

import { GoogleAuth } from 'google-auth-library';
import type { Clock } from '../../ports/clock.port';
import type { AccessToken, PrincipalDirectory, PrincipalSpec } from '../../ports/principals.port';
import { z } from '../../domain/zod';

/** Cloud Storage's read-write scope: all a grant's roles can give, and nothing outside Cloud Storage. */
export const PRINCIPAL_TOKEN_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
/** Tokens are used until this long before they expire, so a long upload never starts on an expiring token. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const TOKEN_LIFETIME = '3600s';
const MAX_CACHED_TOKENS = 1024;
const MAX_ANSWER_BYTES = 64 * 1024;

const serviceAccountAnswer = z.object({ email: z.string().max(254) }).loose();
const tokenAnswer = z
  .object({ accessToken: z.string().min(1).max(4096), expireTime: z.iso.datetime() })
  .loose();

export interface IamPrincipalsOptions {
  clock: Clock;
  /** Emulators only (IAM_EMULATOR_URL): both APIs at this base URL, called without credentials. */
  emulatorUrl?: string;
  /** The platform's own credentials (Application Default Credentials by default). */
  auth?: Pick<GoogleAuth, 'getAccessToken'>;
  /**
   * The principal-creator identity (PRINCIPAL_CREATOR): service accounts are created with a short-lived token of it,
   * minted with the platform's credentials, so the function itself never holds roles/iam.serviceAccountCreator.
   */
  creator?: string;
}

/** What creating a principal needs: the IAM API (cloud-platform; IAM has no narrower scope). */
const CREATOR_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** An IAM or IAM Credentials call that failed: the status and Google's error status, never a token. */
export class IamCallFailed extends Error {
  override readonly name = 'IamCallFailed';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Account principals as Google service accounts: created with the IAM API (projects.serviceAccounts.create, by an
 * identity that holds only roles/iam.serviceAccountCreator on the principals projects) and impersonated through the
 * IAM Credentials API's generateAccessToken (the writers hold roles/iam.serviceAccountTokenCreator on those projects
 * only). Plain REST calls with the platform's credentials: no client library beyond google-auth-library. Tokens are
 * cached per principal until five minutes before they expire, at most MAX_CACHED_TOKENS principals (least recently
 * used first out); concurrent requests for one principal share one call.
 */
export class IamPrincipals implements PrincipalDirectory {
  private readonly tokens = new Map<string, Promise<AccessToken>>();
  private readonly auth: Pick<GoogleAuth, 'getAccessToken'>;
  private readonly iam: string;
  private readonly credentials: string;
  /** generateAccessToken calls made (tests and the cost estimate in docs/ARCHITECTURE.md count them). */
  minted = 0;

  constructor(private readonly options: IamPrincipalsOptions) {
    this.auth =
      options.auth ?? new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    this.iam = options.emulatorUrl ?? 'https://iam.googleapis.com';
    this.credentials = options.emulatorUrl ?? 'https://iamcredentials.googleapis.com';
  }

  async ensure(spec: PrincipalSpec): Promise<string> {
    const email = `${spec.id}@${spec.projectId}.iam.gserviceaccount.com`;
    const creator = this.options.creator;
    const answer = await this.call(
      `${this.iam}/v1/projects/${encodeURIComponent(spec.projectId)}/serviceAccounts`,
      { accountId: spec.id, serviceAccount: { displayName: spec.displayName } },
      creator === undefined ? undefined : (await this.generate(creator, CREATOR_SCOPE)).token,
    );
    // 409: created before (an earlier first use that stopped before it was recorded): the same account.
    if (answer.status === 409) return email;
    if (answer.status !== 200)
      throw new IamCallFailed(answer.status, `creating the account principal failed: ${answer.status}`);
    const created = serviceAccountAnswer.parse(answer.body).email;
    if (created !== email) throw new IamCallFailed(502, 'the IAM API answered another service account');
    return email;
  }

  mintToken(email: string): Promise<AccessToken> {
    const cached = this.tokens.get(email);
    if (cached) {
      this.tokens.delete(email);
      this.tokens.set(email, cached);
      return cached.then((token) => (this.fresh(token) ? token : this.refresh(email, cached)));
    }
    return this.refresh(email);
  }

  private fresh(token: AccessToken): boolean {
    return token.expiresAt.getTime() - this.options.clock.now().getTime() > REFRESH_MARGIN_MS;
  }

  private refresh(email: string, stale?: Promise<AccessToken>): Promise<AccessToken> {
    const current = this.tokens.get(email);
    // Another caller already started the refresh: share it.
    if (current && current !== stale) return current;
    const minted = this.generate(email);
    this.tokens.set(email, minted);
    minted.catch(() => {
      if (this.tokens.get(email) === minted) this.tokens.delete(email);
    });
    while (this.tokens.size > MAX_CACHED_TOKENS) {
      const oldest = this.tokens.keys().next().value;
      if (oldest === undefined) break;
      this.tokens.delete(oldest);
    }
    return minted;
  }

  private async generate(email: string, scope = PRINCIPAL_TOKEN_SCOPE): Promise<AccessToken> {
    this.minted += 1;
    const answer = await this.call(
      `${this.credentials}/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`,
      { scope: [scope], lifetime: TOKEN_LIFETIME },
    );
    if (answer.status !== 200)
      throw new IamCallFailed(answer.status, `generateAccessToken was refused: ${answer.status}`);
    const token = tokenAnswer.parse(answer.body);
    return { token: token.accessToken, expiresAt: new Date(token.expireTime) };
  }

  /** A POST with the platform's credentials (none against an emulator), or with `asToken` when given. */
  private async call(
    url: string,
    body: unknown,
    asToken?: string,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (asToken !== undefined) headers.authorization = `Bearer ${asToken}`;
    else if (this.options.emulatorUrl === undefined) {
      const token = await this.auth.getAccessToken();
      if (!token) throw new IamCallFailed(401, 'the platform has no credentials to call IAM');
      headers.authorization = `Bearer ${token}`;
    }
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    if (Buffer.byteLength(text) > MAX_ANSWER_BYTES)
      throw new IamCallFailed(502, 'the IAM answer is too large');
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = {};
    }
    return { status: response.status, body: parsed };
  }
}

/** platform: the account routes (/v1/accounts/…); operator: the admin routes (/v1/admin/…, API_OPERATORS). */
export type ApiRole = 'platform' | 'operator';

/** Who called the management API, once verified. */
export interface ApiCaller {
  /** 'service-account': a Google ID token of a configured service account; 'bearer': the local shared token. */
  kind: 'service-account' | 'bearer';
  /** The service account's e-mail, or 'bearer'. Logged, so never a secret. */
  id: string;
  /** What the caller may do: a route needs its role (the shared local token has both). */
  roles: readonly ApiRole[];
}

export type CallerCheck =
  | { ok: true; caller: ApiCaller }
  /** unauthenticated: no valid token at all; forbidden: a valid token of someone not configured. */
  | { ok: false; reason: 'unauthenticated' | 'forbidden'; detail: string };

/**
 * The management API's own check of its caller, inside the handler, so that a misconfigured invoker binding in
 * front of it does not open it. Throws only when the check itself could not run (certificates unreachable).
 */
export interface CallerVerifier {
  verify(authorization: string | undefined): Promise<CallerCheck>;
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export const bearerToken = (authorization: string | undefined): string | undefined =>
  /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '')?.[1];

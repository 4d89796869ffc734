/** A short-lived OAuth access token of one principal, and when it stops working. */
export interface AccessToken {
  token: string;
  expiresAt: Date;
}

/** One account principal to create: a service account `id` in `projectId`. */
export interface PrincipalSpec {
  projectId: string;
  /** The service account id (6-30 characters, [a-z][a-z0-9-]*[a-z0-9]). */
  id: string;
  /** Shown in the principals project's IAM pages: which account the principal acts for. */
  displayName: string;
}

/**
 * The identities the service acts as in a customer's bucket when the customer granted a role instead of handing over
 * a key (docs/ARCHITECTURE.md, "Destinations without a key"): one service account per customer account.
 */
export interface PrincipalDirectory {
  /** Creates the service account if it does not exist yet (idempotent) and answers its e-mail. */
  ensure(spec: PrincipalSpec): Promise<string>;
  /** A short-lived access token of the principal (IAM Credentials generateAccessToken, Cloud Storage scope). */
  mintToken(email: string): Promise<AccessToken>;
}

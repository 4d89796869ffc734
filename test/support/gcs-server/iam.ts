// Bucket IAM policies and the IAM / IAM Credentials APIs, as far as account principals use them: buckets carry a
// policy (GET/PUT b/{bucket}/iam, as @google-cloud/storage's bucket.iam calls them); service accounts are created with
// POST /v1/projects/{project}/serviceAccounts and impersonated with
// POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken, whose tokens then act in Cloud Storage with what the
// buckets' policies grant `serviceAccount:{email}`. The callers of the IAM APIs are not authenticated (the platform's
// own identity in tests), except that a test may refuse impersonation, as IAM does for a caller without
// roles/iam.serviceAccountTokenCreator.
import { randomBytes } from 'node:crypto';
import type { BucketIamPolicy } from '../../../shared/adapters/bucket-iam';
import { bucketIamPolicySchema, permissionsOf, withBinding } from '../../../shared/adapters/bucket-iam';
import { z } from '../../../shared/domain/zod';

const createSchema = z.object({
  accountId: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/),
  serviceAccount: z.object({ displayName: z.string().max(100).optional() }).optional(),
});
const generateSchema = z.object({
  scope: z.array(z.string()).min(1),
  lifetime: z
    .string()
    .regex(/^\d+s$/)
    .optional(),
});

export interface IamAnswer {
  status: number;
  body: unknown;
}

const googleError = (code: number, status: string, message: string): IamAnswer => ({
  status: code,
  body: { error: { code, message, status } },
});

export class BucketIam {
  private readonly policies = new Map<string, BucketIamPolicy>();
  /** Service accounts created through the IAM API: e-mail → project and display name. */
  readonly serviceAccounts = new Map<string, { projectId: string; displayName?: string }>();
  /** generateAccessToken calls, in order: whom, and whether a token was issued. */
  readonly impersonations: { email: string; granted: boolean }[] = [];
  /** IAM refuses to impersonate (the caller lacks roles/iam.serviceAccountTokenCreator): 403. */
  refuseImpersonation = false;

  constructor(private readonly issue: (email: string) => string) {}

  policy(bucket: string): BucketIamPolicy {
    return this.policies.get(bucket) ?? { bindings: [] };
  }

  setPolicy(bucket: string, policy: unknown): BucketIamPolicy {
    const parsed = bucketIamPolicySchema.parse(policy);
    const stored = { bindings: parsed.bindings };
    this.policies.set(bucket, stored);
    return stored;
  }

  setBinding(bucket: string, role: string, member: string, present: boolean): BucketIamPolicy {
    return this.setPolicy(bucket, withBinding(this.policy(bucket), role, member, present));
  }

  /** The permissions the service account holds on the bucket through its policy. */
  held(bucket: string, email: string): Set<string> {
    return permissionsOf(this.policy(bucket), `serviceAccount:${email}`);
  }

  /** Google's policy resource, as getIamPolicy/setIamPolicy answer it. */
  resource(bucket: string): unknown {
    return {
      kind: 'storage#policy',
      resourceId: `projects/_/buckets/${bucket}`,
      version: 1,
      etag: 'CAE=',
      bindings: this.policy(bucket).bindings,
    };
  }

  createServiceAccount(projectId: string, body: unknown): IamAnswer {
    const parsed = createSchema.safeParse(body);
    if (!parsed.success) return googleError(400, 'INVALID_ARGUMENT', 'Invalid service account request.');
    const email = `${parsed.data.accountId}@${projectId}.iam.gserviceaccount.com`;
    if (this.serviceAccounts.has(email))
      return googleError(409, 'ALREADY_EXISTS', `Service account ${parsed.data.accountId} already exists.`);
    const displayName = parsed.data.serviceAccount?.displayName;
    this.serviceAccounts.set(email, { projectId, ...(displayName === undefined ? {} : { displayName }) });
    return {
      status: 200,
      body: { name: `projects/${projectId}/serviceAccounts/${email}`, projectId, email, displayName },
    };
  }

  generateAccessToken(email: string, body: unknown, nowMs: number): IamAnswer {
    if (!generateSchema.safeParse(body).success)
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid generateAccessToken request.');
    const known = this.serviceAccounts.has(email);
    const granted = known && !this.refuseImpersonation;
    this.impersonations.push({ email, granted });
    if (!known) return googleError(404, 'NOT_FOUND', `Service account ${email} not found.`);
    if (this.refuseImpersonation)
      return googleError(403, 'PERMISSION_DENIED', "Permission 'iam.serviceAccounts.getAccessToken' denied.");
    return {
      status: 200,
      body: {
        accessToken: this.issue(email),
        expireTime: new Date(nowMs + 3_600_000).toISOString(),
      },
    };
  }
}

export const impersonatedToken = (): string => `ya29.imp-${randomBytes(16).toString('hex')}`;

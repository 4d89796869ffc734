import { z } from '../domain/zod';

/**
 * The Cloud Storage permissions of the roles a customer may grant on a bucket (Google's "IAM roles for Cloud
 * Storage"), as far as exports and their probe use them. Both the local bucket store and the test Cloud Storage
 * server decide with this table, so a grant behaves alike in both.
 */
const OBJECT_USER = [
  'storage.objects.create',
  'storage.objects.delete',
  'storage.objects.get',
  'storage.objects.list',
  'storage.objects.update',
  'storage.multipartUploads.create',
];

export const BUCKET_ROLE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  'roles/storage.objectCreator': ['storage.objects.create', 'storage.multipartUploads.create'],
  'roles/storage.objectViewer': ['storage.objects.get', 'storage.objects.list'],
  'roles/storage.objectUser': OBJECT_USER,
  'roles/storage.objectAdmin': [
    ...OBJECT_USER,
    'storage.objects.getIamPolicy',
    'storage.objects.setIamPolicy',
  ],
  'roles/storage.legacyBucketReader': ['storage.buckets.get', 'storage.objects.list'],
  'roles/storage.admin': [
    ...OBJECT_USER,
    'storage.buckets.get',
    'storage.buckets.getIamPolicy',
    'storage.buckets.setIamPolicy',
    'storage.buckets.update',
  ],
};

const MEMBER = /^(?:serviceAccount|user|group|domain):[^\s,]{1,254}$|^allUsers$|^allAuthenticatedUsers$/;

/** A bucket's IAM policy as Cloud Storage's JSON API carries it (bindings of roles to members; no conditions). */
export const bucketIamPolicySchema = z.object({
  bindings: z
    .array(
      z.object({
        role: z
          .string()
          .max(200)
          .regex(/^(?:roles|projects\/[^/]+\/roles|organizations\/\d+\/roles)\/\S+$/),
        members: z.array(z.string().max(300).regex(MEMBER)).max(1500),
      }),
    )
    .max(100)
    .default([]),
  etag: z.string().max(100).optional(),
});
export type BucketIamPolicy = z.infer<typeof bucketIamPolicySchema>;

/** The permissions `member` holds through the policy's bindings. */
export function permissionsOf(policy: BucketIamPolicy, member: string): Set<string> {
  const held = new Set<string>();
  for (const binding of policy.bindings) {
    if (!binding.members.includes(member)) continue;
    for (const permission of BUCKET_ROLE_PERMISSIONS[binding.role] ?? []) held.add(permission);
  }
  return held;
}

/** The policy with `member` added to (or removed from) the role's binding; empty bindings disappear. */
export function withBinding(
  policy: BucketIamPolicy,
  role: string,
  member: string,
  present: boolean,
): BucketIamPolicy {
  const others = policy.bindings.filter((b) => b.role !== role);
  const members = new Set(policy.bindings.find((b) => b.role === role)?.members ?? []);
  if (present) members.add(member);
  else members.delete(member);
  return {
    bindings: members.size === 0 ? others : [...others, { role, members: [...members].sort() }],
  };
}

export const serviceAccountMember = (email: string): string => `serviceAccount:${email}`;

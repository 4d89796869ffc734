import { createPrivateKey } from 'node:crypto';
import { z } from '../zod';
import { idSchema } from '../ids';
import { bucketNameSchema } from '../source/gcs-uri';
import type { ParseResult } from '../schema';
import { grantInstructions, principalEmailSchema } from './account-principals';
import { parseWithSchema } from '../schema';

/** Google's OAuth token endpoints: a key that names any other one would send its signed assertion elsewhere. */
export const GOOGLE_TOKEN_URIS = [
  'https://oauth2.googleapis.com/token',
  'https://accounts.google.com/o/oauth2/token',
];

/** The longest key file we read: a 4096-bit key file is about 3.4 KB; anything far larger is not a key. */
export const MAX_KEY_TEXT_BYTES = 16 * 1024;
/** A PKCS#8 PEM of a 4096-bit RSA key is 3,272 characters. */
const MAX_PRIVATE_KEY_CHARS = 4000;
const RSA_BITS = { min: 2048, max: 4096 };

/** Project ids (6-30 characters), optionally domain-scoped (`example.com:project`) as legacy projects are. */
const PROJECT_ID = /^(?:[a-z0-9][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Only user-managed service accounts: `name@project.iam.gserviceaccount.com`. */
const CLIENT_EMAIL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9][a-z0-9.-]{0,99}\.iam\.gserviceaccount\.com$/;

/** The RSA modulus size of a PEM private key, or undefined when it is not a readable RSA key. */
function rsaBits(pem: string): number | undefined {
  if (pem.length > MAX_PRIVATE_KEY_CHARS) return undefined;
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  } catch {
    return undefined;
  }
}

/** A URL field of the key file: only Google's own value is accepted (it is never used, and dropped when stored). */
const googleUrl = (accepts: (url: string) => boolean) =>
  z
    .string()
    .max(300)
    .refine((url) => url.length <= 300 && accepts(url), "must be Google's URL, as in the downloaded key file")
    .optional();

/**
 * A service-account key file as Google issues it, every field bounded. Violations name the field, never its value.
 * Everything is checked before any network call.
 */
export const serviceAccountKeySchema = z
  .object({
    type: z.literal('service_account', { message: 'must be "service_account"' }),
    project_id: z.string().max(100).regex(PROJECT_ID, 'must be a Google Cloud project id'),
    private_key_id: z.string().regex(/^[0-9a-f]{40}$/, 'must be the 40-hex-digit key id'),
    private_key: z
      .string()
      .max(MAX_PRIVATE_KEY_CHARS, 'is longer than a 4096-bit RSA key')
      .refine((pem) => pem.includes('-----BEGIN PRIVATE KEY-----'), 'must be a PEM private key')
      .refine((pem) => rsaBits(pem) !== undefined, 'is not a readable RSA private key')
      .refine((pem) => {
        const bits = rsaBits(pem);
        return bits === undefined || (bits >= RSA_BITS.min && bits <= RSA_BITS.max);
      }, `must be an RSA key of ${RSA_BITS.min} to ${RSA_BITS.max} bits`),
    client_email: z
      .string()
      .max(254)
      .regex(CLIENT_EMAIL, 'must be a service account e-mail (…@PROJECT.iam.gserviceaccount.com)'),
    client_id: z
      .string()
      .regex(/^\d{1,30}$/, 'must be numeric')
      .optional(),
    auth_uri: googleUrl((url) => url === 'https://accounts.google.com/o/oauth2/auth'),
    token_uri: z
      .string()
      .max(300)
      .refine((uri) => GOOGLE_TOKEN_URIS.includes(uri), "must be Google's token endpoint"),
    auth_provider_x509_cert_url: googleUrl((url) => url === 'https://www.googleapis.com/oauth2/v1/certs'),
    client_x509_cert_url: googleUrl((url) =>
      url.startsWith('https://www.googleapis.com/robot/v1/metadata/x509/'),
    ),
    universe_domain: z.literal('googleapis.com', { message: 'must be "googleapis.com"' }).optional(),
  })
  .strict();
export type ServiceAccountKey = z.infer<typeof serviceAccountKeySchema>;

/** Parses key text; violations never echo the key's content. */
export function parseServiceAccountKey(text: string): ParseResult<ServiceAccountKey> {
  if (Buffer.byteLength(text) > MAX_KEY_TEXT_BYTES) {
    return {
      ok: false,
      violations: [`key: is larger than ${MAX_KEY_TEXT_BYTES} bytes; a key file is about 2 KB`],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, violations: ['key: is not valid JSON (paste the whole downloaded key file)'] };
  }
  const result = parseWithSchema(serviceAccountKeySchema, json);
  return result.ok ? result : { ok: false, violations: result.violations.map((v) => `key.${v}`) };
}

/**
 * What is stored (encrypted) of a key: the fields a client needs. The URL fields were checked to be Google's and
 * are dropped, so nothing a key file carries can later point a client elsewhere.
 */
export function canonicalKeyText(key: ServiceAccountKey): string {
  return JSON.stringify({
    type: key.type,
    project_id: key.project_id,
    private_key_id: key.private_key_id,
    private_key: key.private_key,
    client_email: key.client_email,
    ...(key.client_id === undefined ? {} : { client_id: key.client_id }),
    token_uri: key.token_uri,
  });
}

export const destinationDocSchema = z.object({
  destinationId: idSchema,
  accountId: idSchema,
  nickname: z.string().min(1).max(100),
  bucket: bucketNameSchema,
  key: z
    .object({
      ciphertext: z.string(),
      version: z.number().int().positive(),
      clientEmail: z.string(),
      projectId: z.string(),
      privateKeyId: z.string(),
    })
    .optional(),
  /** A destination without a key: the customer granted the account's principal the roles on the bucket. */
  grant: z.object({ principal: principalEmailSchema }).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DestinationDoc = z.infer<typeof destinationDocSchema>;

/** Associated data of a key's ciphertext: binds it to one account's destination document. */
export const keyBindingOf = (accountId: string, destinationId: string): string =>
  `destinations/${accountId}~${destinationId}`;

/** What may leave the service about a destination: never the key, only who it is, or whom the customer grants. */
export function publicDestination(destination: DestinationDoc) {
  const { key, grant, ...rest } = destination;
  return {
    ...rest,
    key: key ? { clientEmail: key.clientEmail, projectId: key.projectId, version: key.version } : undefined,
    grant: grant ? grantInstructions(destination.bucket, grant.principal) : undefined,
  };
}

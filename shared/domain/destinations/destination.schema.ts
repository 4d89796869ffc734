import { createPrivateKey } from 'node:crypto';
import { z } from '../zod';
import { idSchema } from '../ids';
import { bucketNameSchema } from '../source/gcs-uri';
import type { ParseResult } from '../schema';
import { parseWithSchema } from '../schema';

/** Google's OAuth token endpoints: a key that names any other one would send its signed assertion elsewhere. */
export const GOOGLE_TOKEN_URIS = [
  'https://oauth2.googleapis.com/token',
  'https://accounts.google.com/o/oauth2/token',
];

export const serviceAccountKeySchema = z
  .object({
    type: z.literal('service_account', { message: 'must be "service_account"' }),
    project_id: z.string().min(1),
    private_key_id: z.string().regex(/^[0-9a-f]{40}$/, 'must be the 40-hex-digit key id'),
    private_key: z
      .string()
      .refine((pem) => pem.includes('-----BEGIN PRIVATE KEY-----'), 'must be a PEM private key')
      .refine((pem) => {
        try {
          return createPrivateKey(pem).asymmetricKeyType === 'rsa';
        } catch {
          return false;
        }
      }, 'is not a readable RSA private key'),
    client_email: z.email(),
    client_id: z.string().regex(/^\d+$/, 'must be numeric').optional(),
    auth_uri: z.string().optional(),
    token_uri: z.string().refine((uri) => GOOGLE_TOKEN_URIS.includes(uri), "must be Google's token endpoint"),
    auth_provider_x509_cert_url: z.string().optional(),
    client_x509_cert_url: z.string().optional(),
    universe_domain: z.literal('googleapis.com').optional(),
  })
  .strict();
export type ServiceAccountKey = z.infer<typeof serviceAccountKeySchema>;

/** Parses key text; violations never echo the key's content. */
export function parseServiceAccountKey(text: string): ParseResult<ServiceAccountKey> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, violations: ['key: is not valid JSON (paste the whole downloaded key file)'] };
  }
  const result = parseWithSchema(serviceAccountKeySchema, json);
  return result.ok ? result : { ok: false, violations: result.violations.map((v) => `key.${v}`) };
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
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DestinationDoc = z.infer<typeof destinationDocSchema>;

/** Associated data of a key's ciphertext: binds it to one account's destination document. */
export const keyBindingOf = (accountId: string, destinationId: string): string =>
  `destinations/${accountId}~${destinationId}`;

/** What may leave the service about a destination: never the key, only who it is. */
export function publicDestination(destination: DestinationDoc) {
  const { key, ...rest } = destination;
  return {
    ...rest,
    key: key ? { clientEmail: key.clientEmail, projectId: key.projectId, version: key.version } : undefined,
  };
}

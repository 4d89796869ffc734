import { z } from '../../../shared/domain/zod';
import { parseError } from './errors';

const customValue = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .transform((v) => (v === null ? null : String(v)));

/** The writable part of an object resource, as sent in upload metadata and patches; other fields are dropped. */
export const objectMetadataSchema = z.object({
  name: z.string().optional(),
  contentType: z.string().optional(),
  contentEncoding: z.string().optional(),
  cacheControl: z.string().optional(),
  contentDisposition: z.string().optional(),
  contentLanguage: z.string().optional(),
  metadata: z.record(z.string(), customValue).nullable().optional(),
  crc32c: z.string().optional(),
  md5Hash: z.string().optional(),
});
export type ObjectMetadataInput = z.infer<typeof objectMetadataSchema>;

export const bucketInsertSchema = z.object({
  name: z.string().min(1),
  retentionPolicy: z
    .object({ retentionPeriod: z.union([z.string(), z.number()]).transform(Number) })
    .optional(),
});

export const retryTestCreateSchema = z.object({
  instructions: z.record(z.string(), z.array(z.string())),
  transport: z.string().optional(),
});

/** Parses a JSON request body with `schema`; an empty body counts as `{}`. Throws GCS's 400 on bad input. */
export function parseJsonBody<S extends z.ZodType>(schema: S, body: Buffer): z.infer<S> {
  let raw: unknown = {};
  if (body.length > 0) {
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      throw parseError();
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw parseError();
  return parsed.data;
}

import { z } from '../domain/zod';
import { idSchema } from '../domain/ids';

/** Chunk tasks carry ids only: the slice itself lives in Firestore (Eventarc caps events at 512 KB). */
export const chunkTaskSchema = z.strictObject({
  runId: z.string().regex(/^[0-9a-f]{12}$/, 'must be a 12-hex-digit run id'),
  chunk: z.number().int().nonnegative(),
});

export const rejectionContextSchema = z
  .object({ accountId: idSchema.optional(), requestId: idSchema.optional() })
  .catch({});

/** What Cloud Scheduler publishes on the failure-check topic: usually `{}`; tests may name the time to check at. */
export const failureCheckMessageSchema = z.object({ now: z.iso.datetime({ offset: true }).optional() });

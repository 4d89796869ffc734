import { z } from '../domain/zod';
import { idSchema, RUN_ID_PATTERN } from '../domain/ids';

/** Chunk tasks carry ids only: the slice itself lives in Firestore (Eventarc caps events at 512 KB). */
export const chunkTaskSchema = z.strictObject({
  runId: z.string().regex(RUN_ID_PATTERN, 'must be a run id (32 hex digits, or 12 for older runs)'),
  chunk: z.number().int().nonnegative(),
});

export const rejectionContextSchema = z
  .object({ accountId: idSchema.optional(), requestId: idSchema.optional() })
  .catch({});

/** What Cloud Scheduler publishes on the failure-check topic: usually `{}`; tests may name the time to check at. */
export const failureCheckMessageSchema = z.object({ now: z.iso.datetime({ offset: true }).optional() });

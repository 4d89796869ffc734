import { z } from '../zod';
import type { ExportKind } from '../export-request';
import { formatIssues } from '../schema';
import { sanitizeRecord } from './sanitize';

/**
 * Source records: one JSON object per line.
 * - events:   {"name": string, "time": T, "profile"?: object, "props"?: object, ...}
 * - profiles: {"id": string, "time": T, "props"?: object, ...}
 * where T is epoch seconds, epoch milliseconds (values from 1e11 up), or an ISO-8601 date-time with a zone.
 */
const EPOCH_MS_THRESHOLD = 1e11;
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(10000, 0, 1);

// ISO-8601 with an explicit zone only: a zone-less time would be read in whatever zone the server runs in.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function toMillis(value: number | string): number {
  if (typeof value === 'number') return Math.abs(value) < EPOCH_MS_THRESHOLD ? value * 1000 : value;
  return ISO_WITH_ZONE.test(value) ? Date.parse(value) : Number.NaN;
}

const timeSchema = z
  .union([z.number(), z.string()], {
    message: 'must be epoch seconds, epoch milliseconds or an ISO-8601 string',
  })
  .transform((value, ctx) => {
    const millis = toMillis(value);
    if (!Number.isFinite(millis) || millis < MIN_TIME || millis >= MAX_TIME) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid time (epoch or ISO-8601 with a time zone)' });
      return z.NEVER;
    }
    return new Date(Math.floor(millis));
  });

const objectField = z.record(z.string(), z.unknown(), { message: 'must be an object' });

const eventSchema = z.looseObject({
  name: z.string({ message: 'is required and must be a string' }).min(1, 'must not be empty'),
  time: timeSchema,
  profile: objectField.optional(),
  props: objectField.optional(),
});

const profileSchema = z.looseObject({
  id: z.string({ message: 'is required and must be a string' }).min(1, 'must not be empty'),
  time: timeSchema,
  props: objectField.optional(),
});

export interface SourceRecord {
  /** The sanitised record as it will be written (time normalised to ISO-8601 UTC). */
  record: Record<string, unknown>;
  /** Raw event name (events only), used for the filter and, sanitised, for the partition. */
  eventName?: string;
  time: Date;
}

export type LineParse = { ok: true; value: SourceRecord } | { ok: false; reason: string };

export function parseSourceLine(kind: ExportKind, line: string): LineParse {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const parsed = (kind === 'events' ? eventSchema : profileSchema).safeParse(json);
  if (!parsed.success) return { ok: false, reason: formatIssues(parsed.error.issues).join('; ') };
  const { time } = parsed.data;
  // The schema validates; the record written is the line's own object (schemas drop keys such as "__proto__").
  const record = sanitizeRecord({ ...json, time: time.toISOString() }) as Record<string, unknown>;
  return {
    ok: true,
    value: {
      record,
      time,
      eventName: kind === 'events' ? (parsed.data as { name: string }).name : undefined,
    },
  };
}

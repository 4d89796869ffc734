import type { ExportKind } from '../export-request';
import type { FieldHooks, FieldValue } from './record-line';
import { ByteSink, LineSyntaxError, rewriteLine } from './record-line';

/**
 * Source records: one JSON object per line.
 * - events:   {"name": string, "time": T, "profile"?: object, "props"?: object, ...}
 * - profiles: {"id": string, "time": T, "props"?: object, ...}
 * where T is epoch seconds, epoch milliseconds (values from 1e11 up), or an ISO-8601 date-time with a zone.
 *
 * A line is validated, sanitised and rewritten in one pass (record-line.ts): numbers keep the source's digits,
 * `time` becomes ISO-8601 UTC in place, and every other field is kept.
 */
const EPOCH_MS_THRESHOLD = 1e11;
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(10000, 0, 1);

// ISO-8601 with an explicit zone only: a zone-less time would be read in whatever zone the server runs in.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const TIME_TYPE = 'must be epoch seconds, epoch milliseconds or an ISO-8601 string';
const BAD_TIME = 'is not a valid time (epoch or ISO-8601 with a time zone)';
const NOT_STRING = 'is required and must be a string';

function toMillis(value: number | string): number {
  if (typeof value === 'number') return Math.abs(value) < EPOCH_MS_THRESHOLD ? value * 1000 : value;
  return ISO_WITH_ZONE.test(value) ? Date.parse(value) : Number.NaN;
}

export interface SourceRecord {
  /** The sanitised record as it is written, without its newline (time normalised to ISO-8601 UTC). */
  json: string;
  /** Raw event name (events only), used for the filter and, sanitised, for the partition. */
  eventName?: string;
  time: Date;
}

export type LineParse = { ok: true; value: SourceRecord } | { ok: false; reason: string };

type FieldRule = 'identity' | 'time' | 'object';
interface KindRules {
  fields: readonly string[];
  rules: readonly FieldRule[];
}

/** The top-level fields each kind checks, in the order their problems are reported. */
const KIND_RULES: Record<ExportKind, KindRules> = {
  events: { fields: ['name', 'time', 'profile', 'props'], rules: ['identity', 'time', 'object', 'object'] },
  profiles: { fields: ['id', 'time', 'props'], rules: ['identity', 'time', 'object'] },
};

const DAY_MS = 86_400_000;
const ZERO = 0x30;
/** `"YYYY-MM-DDTHH:MM:SS.mmmZ"`: times are within [MIN_TIME, MAX_TIME), so years have four digits. */
const isoBytes = Buffer.from('"1970-01-01T00:00:00.000Z"');
let isoDay = 0;
/** The `YYYY-MM-DD` bytes of recent days: a source that is not in time order switches between a few days. */
const DATES_LIMIT = 4096;
const dates = new Map<number, Buffer>();

function dateBytes(day: number): Buffer {
  let date = dates.get(day);
  if (date === undefined) {
    if (dates.size >= DATES_LIMIT) dates.clear();
    date = Buffer.from(new Date(day * DAY_MS).toISOString().slice(0, 10), 'latin1');
    dates.set(day, date);
  }
  return date;
}

/** Writes `value` (0–99) as two digits at `at`; integer division by `| 0`, as the values are small. */
function putTwoDigits(at: number, value: number): void {
  const tens = (value / 10) | 0;
  isoBytes[at] = ZERO + tens;
  isoBytes[at + 1] = ZERO + value - tens * 10;
}

/**
 * `"${new Date(millis).toISOString()}"` as bytes, reused until the next call. Dates are formatted once per day
 * and remembered; the time of day is written digit by digit, as toISOString writes it (no leap seconds in
 * JavaScript).
 */
function isoTime(millis: number): Buffer {
  const day = Math.floor(millis / DAY_MS);
  if (day !== isoDay) {
    const date = dateBytes(day);
    for (let i = 0; i < date.length; i += 1) isoBytes[1 + i] = date[i] ?? 0;
    isoDay = day;
  }
  const ofDay = millis - day * DAY_MS;
  const seconds = (ofDay / 1000) | 0;
  const minutes = (seconds / 60) | 0;
  const hours = (minutes / 60) | 0;
  putTwoDigits(12, hours);
  putTwoDigits(15, minutes - hours * 60);
  putTwoDigits(18, seconds - minutes * 60);
  const ms = ofDay - seconds * 1000;
  isoBytes[21] = ZERO + ((ms / 100) | 0);
  putTwoDigits(22, ms % 100);
  return isoBytes;
}

/** What one line's top-level fields held; reset per line (lines are processed one at a time per thread). */
class LineFields implements FieldHooks {
  identity: string | undefined;
  /** The record's time in epoch milliseconds, or NaN. */
  time = Number.NaN;
  readonly issues: (string | undefined)[];
  private readonly present: boolean[];

  constructor(private readonly kind: KindRules) {
    this.issues = kind.fields.map(() => undefined);
    this.present = kind.fields.map(() => false);
  }

  reset(): void {
    this.identity = undefined;
    this.time = Number.NaN;
    // Cleared in place: setting an array's length is a runtime call, and this runs once per line.
    for (let field = 0; field < this.present.length; field += 1) {
      this.issues[field] = undefined;
      this.present[field] = false;
    }
  }

  watch(key: string): number {
    return this.kind.fields.indexOf(key);
  }

  seen(field: number, value: FieldValue): string | Buffer | undefined {
    if (this.present[field]) {
      this.issues[field] ??= 'must appear only once';
      return undefined;
    }
    this.present[field] = true;
    switch (this.kind.rules[field]) {
      case 'identity':
        if (value.type !== 'string') this.issues[field] = NOT_STRING;
        else if (value.value === '') this.issues[field] = 'must not be empty';
        else this.identity = value.value;
        return undefined;
      case 'time':
        return this.timeOf(field, value);
      case 'object':
        if (value.type !== 'object') this.issues[field] = 'must be an object';
        return undefined;
    }
  }

  private timeOf(field: number, value: FieldValue): Buffer | undefined {
    if (value.type !== 'number' && value.type !== 'string') {
      this.issues[field] = TIME_TYPE;
      return undefined;
    }
    const millis = toMillis(value.type === 'number' ? Number(value.literal) : value.value);
    if (!Number.isFinite(millis) || millis < MIN_TIME || millis >= MAX_TIME) {
      this.issues[field] = BAD_TIME;
      return undefined;
    }
    this.time = Math.floor(millis);
    return isoTime(this.time);
  }

  /** Every problem of the line, in field order, or undefined when it is a valid record. */
  problems(): string | undefined {
    if (!this.present[0]) this.issues[0] ??= NOT_STRING;
    if (!this.present[1]) this.issues[1] ??= TIME_TYPE;
    const found: string[] = [];
    this.issues.forEach((issue, field) => {
      if (issue !== undefined) found.push(`${this.kind.fields[field]}: ${issue}`);
    });
    return found.length > 0 ? found.join('; ') : undefined;
  }
}

const lineFields: Record<ExportKind, LineFields> = {
  events: new LineFields(KIND_RULES.events),
  profiles: new LineFields(KIND_RULES.profiles),
};

/** A line rewritten into a ByteSink: the record's time (epoch ms) and raw event name, or why it was rejected. */
export type RecordRewrite =
  { ok: true; time: number; eventName: string | undefined } | { ok: false; reason: string };

/**
 * Validates the line src[start, end) (valid UTF-8) and appends the record as it is written to `out`, without a
 * newline. A rejected line leaves `out` as it was.
 */
export function rewriteRecord(
  kind: ExportKind,
  src: Buffer,
  start: number,
  end: number,
  out: ByteSink,
): RecordRewrite {
  const fields = lineFields[kind];
  fields.reset();
  const before = out.length;
  let topLevel;
  try {
    topLevel = rewriteLine(src, start, end, out, fields);
  } catch (error) {
    out.length = before;
    if (!(error instanceof LineSyntaxError)) throw error;
    return { ok: false, reason: error.kind === 'depth' ? error.message : `not JSON: ${error.message}` };
  }
  const problems = topLevel === 'object' ? fields.problems() : 'not a JSON object';
  if (problems !== undefined || Number.isNaN(fields.time)) {
    out.length = before;
    return { ok: false, reason: problems ?? '' };
  }
  return { ok: true, time: fields.time, eventName: kind === 'events' ? fields.identity : undefined };
}

const lineSink = new ByteSink();

/** One line as text: what rewriteRecord does, with the record returned as JSON text. */
export function parseSourceLine(kind: ExportKind, line: string): LineParse {
  const bytes = Buffer.from(line, 'utf8');
  lineSink.length = 0;
  const rewritten = rewriteRecord(kind, bytes, 0, bytes.length, lineSink);
  if (!rewritten.ok) return rewritten;
  return {
    ok: true,
    value: {
      json: lineSink.bytes.toString('utf8', 0, lineSink.length),
      time: new Date(rewritten.time),
      ...(rewritten.eventName === undefined ? {} : { eventName: rewritten.eventName }),
    },
  };
}

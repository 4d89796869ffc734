import type { ExportKind } from '../export-request';
import type { FieldHooks, FieldValue, NumberValue, ValueSink } from './record-line';
import { ByteSink, LineScanner, LineSyntaxError } from './record-line';

/**
 * Source records: one JSON object per line.
 * - events:   {"name": string, "time": T, "profile"?: object, "props"?: object, ...}
 * - profiles: {"id": string, "time": T, "props"?: object, ...}
 * where T is epoch seconds, epoch milliseconds (values from 1e11 up), or an ISO-8601 date-time with a zone.
 *
 * A line is validated, sanitised and rewritten in one pass (record-line.ts): numbers keep the source's digits,
 * `time` becomes ISO-8601 UTC in place, and every other field is kept.
 */
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(10000, 0, 1);
/** Epoch values below 1e11 are seconds, from 1e11 up milliseconds: 11 digits before the point or fewer. */
const EPOCH_SECONDS_DIGITS = 11;
/** More integer digits than MAX_TIME has in milliseconds: out of range, whatever they are. */
const MAX_TIME_DIGITS = String(MAX_TIME).length;

const EPOCH_LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A JSON number as epoch milliseconds, floored from the literal's decimal digits: a double cannot hold
 * 1764287999.9999999 and would round it up into the next day. NaN when negative (before 1970) or beyond MAX_TIME.
 */
function epochMillis(literal: string): number {
  const match = EPOCH_LITERAL.exec(literal);
  if (match === null) return Number.NaN;
  const [, minus = '', int = '', fraction = '', exponent = '0'] = match;
  // The digits without leading zeros, and where the decimal point falls in them.
  const all = `${int}${fraction}`;
  const significant = all.replace(/^0+/, '');
  if (significant === '') return 0;
  if (minus !== '') return Number.NaN;
  // A long exponent is out of range either way: clamp it before it reaches arithmetic.
  const shift = exponent.length > 6 ? (exponent.startsWith('-') ? -1e6 : 1e6) : Number(exponent);
  const point = int.length + shift - (all.length - significant.length);
  if (point > MAX_TIME_DIGITS) return Number.NaN;
  const digitsAt = (from: number, count: number): string => {
    let text = '';
    for (let i = from; i < from + count; i += 1)
      text += i >= 0 && i < significant.length ? significant[i] : '0';
    return text;
  };
  const whole = point > 0 ? digitsAt(0, point) : '0';
  // The first significant digit is not 0: the whole part is below 1e11 when it has at most 11 digits.
  if (point <= EPOCH_SECONDS_DIGITS) {
    // Seconds: the whole seconds and the first three digits after the point.
    return Number(whole) * 1000 + Number(digitsAt(point, 3));
  }
  return Number(whole);
}

/**
 * epochMillis of a number field. The common epoch, a whole number of seconds (11 digits at most), is read from its
 * digits with no string; any other literal goes through epochMillis.
 */
function numberMillis(value: NumberValue): number {
  if (value.integer >= 0 && value.digits <= EPOCH_SECONDS_DIGITS) return value.integer * 1000;
  return epochMillis(value.literal());
}

// ISO-8601 with an explicit zone only: a zone-less time would be read in whatever zone the server runs in.
const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))$/i;

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/** The number written by the digits text[from, from + count), or -1 when one of them is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i += 1) {
    const c = text.charCodeAt(i) - ZERO;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * isoMillis of the form most sources write and this exporter writes, `YYYY-MM-DDTHH:MM:SSZ` or with `.mmm` before
 * the Z, read without a regular expression; undefined for any other form (isoMillis then reads it as before).
 */
function utcMillis(text: string): number | undefined {
  const { length } = text;
  if (length !== 20 && length !== 24) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':')
    return undefined;
  if (text[length - 1] !== 'Z' || (length === 24 && text[19] !== '.')) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const millis = length === 24 ? digitsAt(text, 20, 3) : 0;
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || millis < 0)
    return undefined;
  return fieldsMillis(year, month, day, hour, minute, second, millis, 0);
}

/**
 * The epoch milliseconds of a date-time's fields, `offset` milliseconds ahead of UTC, or NaN for an impossible one:
 * February 30th, 24:00, a 60th second or minute (Date.UTC would roll it over into the next month or day), or a year
 * before 100 (Date.UTC reads 0–99 as 1900–1999; they are before 1970 anyway).
 */
function fieldsMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offset: number,
): number {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59 || year < 100) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
}

/**
 * An ISO-8601 date-time with a zone as epoch milliseconds (the fraction floored to a millisecond), or NaN. An
 * impossible date or time (February 30th, 24:00, a 60th second or minute) is not a time: Date.parse would roll it
 * over into the next month or day.
 */
function isoMillis(text: string): number {
  const utc = utcMillis(text);
  if (utc !== undefined) return utc;
  const m = ISO_WITH_ZONE.exec(text);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(
    Number,
  ) as [number, number, number, number, number, number];
  const [offsetHours, offsetMinutes] = [Number(m[10] ?? 0), Number(m[11] ?? 0)];
  if (offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offset = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return fieldsMillis(year, month, day, hour, minute, second, millis, offset);
}

const TIME_TYPE = 'must be epoch seconds, epoch milliseconds or an ISO-8601 string';
const BAD_TIME = 'is not a valid time (epoch or ISO-8601 with a time zone)';
const NOT_STRING = 'is required and must be a string';

export interface SourceRecord {
  /** The sanitised record as it is written, without its newline (time normalised to ISO-8601 UTC). */
  json: string;
  /** Raw event name (events only), used for the filter and, sanitised, for the partition. */
  eventName?: string;
  time: Date;
}

export type LineParse = { ok: true; value: SourceRecord } | { ok: false; reason: string };

/** `once`: any value, but only one (a second would make the record ambiguous). */
type FieldRule = 'identity' | 'time' | 'object' | 'once';
interface KindRules {
  fields: readonly string[];
  rules: readonly FieldRule[];
}

/** The top-level fields each kind checks, in the order their problems are reported. */
const KIND_RULES: Record<ExportKind, KindRules> = {
  events: {
    fields: ['name', 'time', 'profile', 'props', 'id'],
    rules: ['identity', 'time', 'object', 'object', 'once'],
  },
  profiles: { fields: ['id', 'time', 'props', 'name'], rules: ['identity', 'time', 'object', 'once'] },
};

/** Milliseconds in a day: a record's day (days since the epoch) is its time divided by it, rounded down. */
export const DAY_MS = 86_400_000;
const ZERO = 0x30;
/** The `YYYY-MM-DD` bytes of recent days: a source that is not in time order switches between a few days. */
const DATES_LIMIT = 4096;

/**
 * `"${new Date(millis).toISOString()}"` as bytes, written into one buffer of its own. Dates are formatted once per
 * day and remembered; the time of day is written digit by digit, as toISOString writes it (no leap seconds in
 * JavaScript). One per RecordRewriter.
 */
class IsoTimeWriter {
  /** `"YYYY-MM-DDTHH:MM:SS.mmmZ"`: times are within [MIN_TIME, MAX_TIME), so years have four digits. */
  private readonly isoBytes = Buffer.from('"1970-01-01T00:00:00.000Z"');
  private isoDay = 0;
  private readonly dates = new Map<number, Buffer>();

  private dateBytes(day: number): Buffer {
    const { dates } = this;
    let date = dates.get(day);
    if (date === undefined) {
      if (dates.size >= DATES_LIMIT) dates.clear();
      date = Buffer.from(new Date(day * DAY_MS).toISOString().slice(0, 10), 'latin1');
      dates.set(day, date);
    }
    return date;
  }

  /** Writes `value` (0–99) as two digits at `at`; integer division by `| 0`, as the values are small. */
  private putTwoDigits(at: number, value: number): void {
    const tens = (value / 10) | 0;
    this.isoBytes[at] = ZERO + tens;
    this.isoBytes[at + 1] = ZERO + value - tens * 10;
  }

  /**
   * The JSON text of the time `ofDay` milliseconds into `day` (days since the epoch) as bytes, reused until the next
   * call. Two small integers rather than the time in milliseconds, which is not one: a double passed to a call that
   * is not inlined is boxed, one heap number per record.
   */
  write(day: number, ofDay: number): Buffer {
    const { isoBytes } = this;
    if (day !== this.isoDay) {
      const date = this.dateBytes(day);
      for (let i = 0; i < date.length; i += 1) isoBytes[1 + i] = date[i] ?? 0;
      this.isoDay = day;
    }
    const seconds = (ofDay / 1000) | 0;
    const minutes = (seconds / 60) | 0;
    const hours = (minutes / 60) | 0;
    this.putTwoDigits(12, hours);
    this.putTwoDigits(15, minutes - hours * 60);
    this.putTwoDigits(18, seconds - minutes * 60);
    const ms = ofDay - seconds * 1000;
    isoBytes[21] = ZERO + ((ms / 100) | 0);
    this.putTwoDigits(22, ms % 100);
    return isoBytes;
  }
}

/** What one line's top-level fields held; reset per line (one per RecordRewriter and kind). */
class LineFields implements FieldHooks {
  identity: string | undefined;
  /** The record's time in epoch milliseconds, or NaN. */
  time = Number.NaN;
  readonly issues: (string | undefined)[];
  private readonly present: boolean[];

  constructor(
    private readonly kind: KindRules,
    private readonly times: IsoTimeWriter,
  ) {
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
      case 'once':
        return undefined;
    }
  }

  private timeOf(field: number, value: FieldValue): Buffer | undefined {
    if (value.type !== 'number' && value.type !== 'string') {
      this.issues[field] = TIME_TYPE;
      return undefined;
    }
    const millis = value.type === 'number' ? numberMillis(value) : isoMillis(value.value);
    if (!Number.isFinite(millis) || millis < MIN_TIME || millis >= MAX_TIME) {
      this.issues[field] = BAD_TIME;
      return undefined;
    }
    this.time = millis;
    const day = Math.floor(millis / DAY_MS);
    return this.times.write(day, millis - day * DAY_MS);
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

/**
 * A line rewritten into a ByteSink: the record's time (epoch ms) and raw event name, or why it was rejected. An
 * accepted line's result is one object per RecordRewriter, valid until its next call.
 */
export type RecordRewrite = Accepted | { ok: false; reason: string };
interface Accepted {
  readonly ok: true;
  time: number;
  eventName: string | undefined;
}

/**
 * Validates and rewrites source lines. Everything it keeps between lines (the scanner's tables, the fields of the
 * line being read, the time text and the dates it has formatted) is this instance's: a processor owns one, and two
 * never share state, whatever runs between or inside their calls.
 */
export class RecordRewriter {
  private readonly scanner = new LineScanner();
  private readonly times = new IsoTimeWriter();
  private readonly accepted: Accepted = { ok: true, time: 0, eventName: undefined };
  private readonly lineFields: Record<ExportKind, LineFields> = {
    events: new LineFields(KIND_RULES.events, this.times),
    profiles: new LineFields(KIND_RULES.profiles, this.times),
  };

  /**
   * Validates the line src[start, end) (valid UTF-8) and appends the record as it is written to `out`, without a
   * newline. A rejected line leaves `out` as it was. `values`, when given, is told the record's column-level values
   * as they are written (record-line.ts, ValueSink).
   */
  rewrite(
    kind: ExportKind,
    src: Buffer,
    start: number,
    end: number,
    out: ByteSink,
    values?: ValueSink,
  ): RecordRewrite {
    const fields = this.lineFields[kind];
    fields.reset();
    const before = out.length;
    let topLevel;
    try {
      topLevel = this.scanner.rewrite(src, start, end, out, fields, values);
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
    const { accepted } = this;
    accepted.time = fields.time;
    accepted.eventName = kind === 'events' ? fields.identity : undefined;
    return accepted;
  }
}

/** One line as text: what RecordRewriter#rewrite does, with the record returned as JSON text. */
export function parseSourceLine(
  kind: ExportKind,
  line: string,
  rewriter: RecordRewriter = new RecordRewriter(),
): LineParse {
  const bytes = Buffer.from(line, 'utf8');
  const sink = new ByteSink(bytes.length + 64);
  const rewritten = rewriter.rewrite(kind, bytes, 0, bytes.length, sink);
  if (!rewritten.ok) return rewritten;
  return {
    ok: true,
    value: {
      json: sink.bytes.toString('utf8', 0, sink.length),
      time: new Date(rewritten.time),
      ...(rewritten.eventName === undefined ? {} : { eventName: rewritten.eventName }),
    },
  };
}

import { z } from '../zod';

/**
 * The column model shared by the CSV and Parquet writers and the manifest.
 *
 * A column is a path into the record: a top-level field (`name`, `time`, `session`) or one level into a top-level
 * object (`props.Amount`, `profile.identity`). Deeper values, and arrays, are one JSON cell.
 *
 * What a column may hold is observed as a set of value kinds (bits), so observations merge by OR in any order:
 * chunks are scanned in parallel and merged in whatever order they finish, and runs merge with the export's past.
 */
export const COLUMN_TYPES = ['string', 'int64', 'double', 'boolean', 'timestamp', 'json'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const KIND = {
  boolean: 1,
  /** An integer literal within ±2^53: exact as int64 and as double. */
  safeInteger: 2,
  /** An integer literal beyond ±2^53 but within int64: exact as int64 only. */
  integer64: 4,
  /** An integer literal beyond int64: exact only as text. */
  hugeInteger: 8,
  /** A literal with a fraction or exponent whose decimal value a double holds exactly (0.1, 1e3, -0). */
  double: 16,
  /** A literal a double would round (3.14159265358979323846, 1e400): exact only as text. */
  inexact: 32,
  string: 64,
  /** An object below the flattening depth, or an array: written as JSON text. */
  nested: 128,
  /** The envelope's `time`, already normalised to an ISO-8601 UTC instant by the record path. */
  timestamp: 256,
} as const;

const KIND_NAMES = Object.entries(KIND) as [keyof typeof KIND, number][];

/** The kinds in a bit set, by name: what the manifest says a column was seen holding. */
export const kindNames = (kinds: number): string[] =>
  KIND_NAMES.filter(([, bit]) => (kinds & bit) !== 0).map(([name]) => name);

const NUMBER_KINDS = KIND.safeInteger | KIND.integer64 | KIND.hugeInteger | KIND.double | KIND.inexact;

/**
 * The narrowest type that holds every kind seen without losing a digit: numbers stay numbers while one numeric
 * type holds them all exactly; anything else falls back to text (string), or to JSON text once a value is nested.
 */
export function typeOfKinds(kinds: number): ColumnType {
  if (kinds & KIND.nested) return 'json';
  if (kinds === KIND.timestamp) return 'timestamp';
  if (kinds & (KIND.string | KIND.timestamp)) return 'string';
  if (kinds & KIND.boolean) return kinds === KIND.boolean ? 'boolean' : 'string';
  if (kinds & (KIND.hugeInteger | KIND.inexact)) return 'string';
  if (kinds & KIND.double) return kinds & KIND.integer64 ? 'string' : 'double';
  if (kinds & NUMBER_KINDS) return 'int64';
  return 'string';
}

/** The kinds a column of a given type already accepts: how an export's past type joins a run's observations. */
export function kindsOfType(type: ColumnType): number {
  switch (type) {
    case 'boolean':
      return KIND.boolean;
    case 'int64':
      return KIND.safeInteger | KIND.integer64;
    case 'double':
      return KIND.safeInteger | KIND.double;
    case 'timestamp':
      return KIND.timestamp;
    case 'string':
      return KIND.string;
    case 'json':
      return KIND.nested;
  }
}

const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const SAFE = 2n ** 53n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A number literal's kind, decided on its digits (the record path keeps the source's literal). */
export function numberKind(literal: string): number {
  if (INTEGER.test(literal) && literal !== '-0') {
    const value = BigInt(literal);
    if (value >= -SAFE && value <= SAFE) return KIND.safeInteger;
    return value >= INT64_MIN && value <= INT64_MAX ? KIND.integer64 : KIND.hugeInteger;
  }
  return holdsExactly(literal) ? KIND.double : KIND.inexact;
}

/** Whether Number(literal) is the literal's exact decimal value. */
function holdsExactly(literal: string): boolean {
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  if (value === 0) return true;
  // The shortest spelling of the double is the literal itself (most literals): exact, without comparing keys.
  const shortest = String(value);
  return shortest === literal || decimalKey(literal) === decimalKey(shortest);
}

/** A canonical spelling of a decimal value: sign, significant digits, position of the decimal point. */
function decimalKey(text: string): string {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  let digits = whole + fraction;
  let point = whole.length + Number(exponent);
  const leading = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(leading).replace(/0+$/, '');
  point -= leading;
  return `${sign}${digits}@${point}`;
}

export const columnSchema = z.object({
  /** The header in CSV, the field name in Parquet: the path joined with ".", unique within the run. */
  name: z.string(),
  path: z.array(z.string()).min(1).max(2),
  type: z.enum(COLUMN_TYPES),
  nullable: z.boolean(),
});
export type Column = z.infer<typeof columnSchema>;

/** What one scan saw of one column. */
export const observedColumnSchema = z.object({
  path: z.array(z.string()).min(1).max(2),
  kinds: z.number().int().nonnegative(),
  /** Present in fewer records than were scanned, or null somewhere. */
  nullable: z.boolean(),
});
export type ObservedColumn = z.infer<typeof observedColumnSchema>;

/** Key of a path in maps: NUL cannot occur in a sanitised name. */
export const pathKey = (path: readonly string[]): string => path.join('\u0000');

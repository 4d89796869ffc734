import { KIND, numberKind } from './column-types';
import type { ValueSink } from '../records/record-line';

/**
 * The columnar formats' reader of a record on its UTF-8 bytes: the record path's own text (compact JSON it wrote
 * itself, numbers as the source's literals), read where the record path wrote it, with no string made of the
 * record, so neither the schema pass nor CSV rows decode a record into a string and encode the row back
 * (docs/PERFORMANCE.md, "Columnar cells from bytes"). It replaced two full lossless-json parses per record, and
 * then a reader of the same text as a JavaScript string; test/unit/domain/output/row-shape.test.ts holds what is
 * made of it to the lossless-json path, kept as the oracle (test/support/columnar-oracle.ts).
 *
 * A read fills a table of the record's column-level values (a top-level field, or a field one level into a
 * top-level object; an empty object has none), in the text's order: value `i` is `tops[i]` (and `subs[i]` one
 * level in, else undefined), its JSON text `src[starts[i], ends[i])`, its `tags[i]`, and `escaped[i]` when a
 * backslash escape is inside. Names come from a cache by their bytes, so a name read again is the same string,
 * found in a Map by its cached hash: no string is made per key.
 *
 * The text must be what the record path writes: anything else is a defect (the record path and this reader
 * disagree) and throws, never a guess.
 */

/** What a value is, by its first character. */
export const VALUE = { string: 1, number: 2, true: 3, false: 4, null: 5, nested: 6 } as const;
export type ValueTag = (typeof VALUE)[keyof typeof VALUE];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** A direct-mapped cache of names by the low bits of their bytes' hash; a name evicts another of its slot. */
const NAME_SLOTS = 1024;
/** Longer names are decoded every time: the cache stays small, and long names are rare. */
const NAME_CACHE_BYTES = 128;

/** Values of one record the table keeps room for between records. */
const KEPT_VALUES = 4096;

interface NameEntry {
  /** The name's text between its quotes, as written (escapes included). */
  bytes: Uint8Array;
  name: string;
}

const malformed = (at: number): Error =>
  new Error(`the record path wrote text the columnar reader cannot read (at byte ${at})`);

export class RecordBytes implements ValueSink {
  /** How many values the last record has. */
  count = 0;
  /** The text last read. */
  src: Buffer = Buffer.alloc(0);
  readonly tops: string[] = [];
  readonly subs: (string | undefined)[] = [];
  tags = new Uint8Array(64);
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  escaped = new Uint8Array(64);
  /** Whether the string or nested value last scanned holds an escape. */
  private escapedNow = false;
  private readonly names: (NameEntry | undefined)[] = new Array<NameEntry | undefined>(NAME_SLOTS).fill(
    undefined,
  );

  /**
   * The record path's side (ValueSink): it reports each value as it writes the record, so that the record is never
   * read again. `complete` then gives the text and works out the tags.
   */
  begin(): void {
    this.count = 0;
    // A table grown by a record of many values (a line may take up to 8 MiB) is not kept for the records after.
    if (this.tags.length > KEPT_VALUES) this.shrink();
  }

  add(top: string, sub: string | undefined, start: number, end: number, escaped: boolean): void {
    const n = this.count;
    if (n === this.tags.length) this.grow();
    this.tops[n] = top;
    this.subs[n] = sub;
    this.starts[n] = start;
    this.ends[n] = end;
    this.escaped[n] = escaped ? 1 : 0;
    this.count = n + 1;
  }

  /** The record the reported values lie in, now written: each value's tag is its first byte's. */
  complete(src: Buffer): void {
    this.src = src;
    for (let n = 0; n < this.count; n += 1) this.tags[n] = tagOf(src[this.starts[n] ?? 0] ?? 0);
  }

  /** Reads the record src[start, end) into the table. */
  read(src: Buffer, start: number, end: number): void {
    this.src = src;
    this.begin();
    let i = start;
    if (src[i] !== OPEN_OBJECT || end - start < 2) throw malformed(i);
    i += 1;
    if (src[i] === CLOSE_OBJECT) return this.end(i + 1, end);
    for (;;) {
      const keyEnd = this.stringEnd(i, end);
      const top = this.name(i, keyEnd);
      i = keyEnd;
      if (src[i] !== COLON) throw malformed(i);
      i += 1;
      if (src[i] === OPEN_OBJECT) {
        i += 1;
        if (src[i] === CLOSE_OBJECT) i += 1;
        else
          for (;;) {
            const subEnd = this.stringEnd(i, end);
            const sub = this.name(i, subEnd);
            i = subEnd;
            if (src[i] !== COLON) throw malformed(i);
            i = this.value(top, sub, i + 1, end);
            const c = src[i];
            i += 1;
            if (c === CLOSE_OBJECT) break;
            if (c !== COMMA) throw malformed(i - 1);
          }
      } else {
        i = this.value(top, undefined, i, end);
      }
      const c = src[i];
      i += 1;
      if (c === CLOSE_OBJECT) return this.end(i, end);
      if (c !== COMMA) throw malformed(i - 1);
    }
  }

  private end(i: number, end: number): void {
    if (i !== end) throw malformed(i);
  }

  /** The index after the string starting at `i` (a quote); sets `escapedNow`. */
  private stringEnd(i: number, end: number): number {
    const src = this.src;
    if (src[i] !== QUOTE) throw malformed(i);
    let escaped = false;
    for (let j = i + 1; j < end;) {
      const c = src[j];
      if (c === QUOTE) {
        this.escapedNow = escaped;
        return j + 1;
      }
      if (c === BACKSLASH) {
        escaped = true;
        j += 2;
      } else j += 1;
    }
    throw malformed(i);
  }

  /** The name whose JSON text (quotes included) is src[start, end). */
  private name(start: number, end: number): string {
    const { src } = this;
    const length = end - start - 2;
    if (length > NAME_CACHE_BYTES) return this.decode(start, end);
    let hash = 0x811c9dc5;
    for (let i = start + 1; i < end - 1; i += 1) hash = Math.imul(hash ^ (src[i] ?? 0), 0x01000193);
    const slot = (hash >>> 0) & (NAME_SLOTS - 1);
    const entry = this.names[slot];
    if (entry?.bytes.length === length) {
      const bytes = entry.bytes;
      let same = true;
      for (let i = 0; i < length; i += 1)
        if (bytes[i] !== src[start + 1 + i]) {
          same = false;
          break;
        }
      if (same) return entry.name;
    }
    const name = this.decode(start, end);
    this.names[slot] = { bytes: Uint8Array.prototype.slice.call(src, start + 1, end - 1), name };
    return name;
  }

  private decode(start: number, end: number): string {
    return this.escapedNow
      ? (JSON.parse(this.src.toString('utf8', start, end)) as string)
      : this.src.toString('utf8', start + 1, end - 1);
  }

  /** Reads the value at `i` into the table; returns the index after it. */
  private value(top: string, sub: string | undefined, i: number, end: number): number {
    const src = this.src;
    const c = src[i];
    let to: number;
    let tag: ValueTag;
    let escaped = false;
    if (c === QUOTE) {
      to = this.stringEnd(i, end);
      tag = VALUE.string;
      escaped = this.escapedNow;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      to = this.nestedEnd(i, end);
      tag = VALUE.nested;
      escaped = this.escapedNow;
    } else if (c === 0x74) {
      to = i + 4;
      tag = VALUE.true;
    } else if (c === 0x66) {
      to = i + 5;
      tag = VALUE.false;
    } else if (c === 0x6e) {
      to = i + 4;
      tag = VALUE.null;
    } else {
      to = i;
      for (; to < end; to += 1) {
        const d = src[to] ?? 0;
        // Digits, '-', '+', '.', 'e', 'E'.
        if (!(
          (d >= ZERO && d <= NINE) ||
          d === MINUS ||
          d === 0x2b ||
          d === 0x2e ||
          d === 0x65 ||
          d === 0x45
        ))
          break;
      }
      if (to === i) throw malformed(i);
      tag = VALUE.number;
    }
    if (to > end) throw malformed(i);
    this.add(top, sub, i, to, escaped);
    this.tags[this.count - 1] = tag;
    return to;
  }

  private shrink(): void {
    this.tags = new Uint8Array(64);
    this.starts = new Int32Array(64);
    this.ends = new Int32Array(64);
    this.escaped = new Uint8Array(64);
    this.tops.length = 0;
    this.subs.length = 0;
  }

  private grow(): void {
    const size = this.tags.length * 2;
    this.tags = grown(this.tags, new Uint8Array(size));
    this.starts = grown(this.starts, new Int32Array(size));
    this.ends = grown(this.ends, new Int32Array(size));
    this.escaped = grown(this.escaped, new Uint8Array(size));
  }

  /** The index after the object or array starting at `i`; sets `escapedNow` when a string inside has an escape. */
  private nestedEnd(i: number, end: number): number {
    const src = this.src;
    let depth = 0;
    let escaped = false;
    let j = i;
    while (j < end) {
      const c = src[j];
      if (c === QUOTE) {
        j = this.stringEnd(j, end);
        escaped ||= this.escapedNow;
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth += 1;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth -= 1;
        if (depth === 0) {
          this.escapedNow = escaped;
          return j + 1;
        }
      }
      j += 1;
    }
    throw malformed(i);
  }

  /** The kind bit of value `n` (0 for null); a string counts as a timestamp where `timestamp` says so. */
  kind(n: number, timestamp: boolean): number {
    switch (this.tags[n]) {
      case VALUE.string:
        return timestamp ? KIND.timestamp : KIND.string;
      case VALUE.number:
        return literalKind(this.src, this.starts[n] ?? 0, this.ends[n] ?? 0);
      case VALUE.true:
      case VALUE.false:
        return KIND.boolean;
      case VALUE.null:
        return 0;
      default:
        return KIND.nested;
    }
  }

  /** Value `n`'s JSON text (a number's literal, as the source wrote it). */
  text(n: number): string {
    return this.src.toString('utf8', this.starts[n], this.ends[n]);
  }

  /** String value `n`, decoded. */
  string(n: number): string {
    const from = this.starts[n] ?? 0;
    const to = this.ends[n] ?? 0;
    return this.escaped[n] === 1
      ? (JSON.parse(this.src.toString('utf8', from, to)) as string)
      : this.src.toString('utf8', from + 1, to - 1);
  }
}

/** `into`, holding `from` at its start. */
function grown<T extends Uint8Array | Int32Array>(from: T, into: T): T {
  into.set(from);
  return into;
}

/** A value's tag by its first byte (the record path's text: a number starts with a digit or "-"). */
function tagOf(first: number): ValueTag {
  switch (first) {
    case QUOTE:
      return VALUE.string;
    case OPEN_OBJECT:
    case OPEN_ARRAY:
      return VALUE.nested;
    case 0x74:
      return VALUE.true;
    case 0x66:
      return VALUE.false;
    case 0x6e:
      return VALUE.null;
    default:
      return VALUE.number;
  }
}

/**
 * Decimals written without an exponent in at most this many characters lie between 1e-19 and 1e20, far inside the
 * doubles' normal range, where any decimal of at most DECIMAL_DIGITS significant digits reads back to itself.
 */
const SHORT_DECIMAL = 20;
/** Significant digits a double always holds (DBL_DIG). */
const DECIMAL_DIGITS = 15;
const DOT = 0x2e;

/**
 * A number literal's kind: the common short integers and short decimals on their bytes, the rest by numberKind
 * (record-bytes.test.ts holds every literal to numberKind).
 */
export function literalKind(src: Buffer, start: number, end: number): number {
  let i = src[start] === MINUS ? start + 1 : start;
  // Up to 15 digits, no leading zero (or a lone 0): well within ±2^53.
  if (end - i <= 15 && end > i && (src[i] !== ZERO || end - i === 1)) {
    for (; i < end; i++) {
      const d = src[i] ?? 0;
      if (d < ZERO || d > NINE)
        return d === DOT ? decimalKind(src, start, end) : numberKind(src.toString('latin1', start, end));
    }
    // "-0" is a double (a negative zero), not an integer.
    return end - start === 2 && src[start] === MINUS && src[start + 1] === ZERO
      ? numberKind('-0')
      : KIND.safeInteger;
  }
  return decimalKind(src, start, end);
}

/**
 * A literal `-?digits.digits` of at most SHORT_DECIMAL characters and DECIMAL_DIGITS significant digits is a double
 * that holds it exactly (numberKind's `holdsExactly`, without making and comparing strings); any other by numberKind.
 */
function decimalKind(src: Buffer, start: number, end: number): number {
  if (end - start > SHORT_DECIMAL) return numberKind(src.toString('latin1', start, end));
  let i = src[start] === MINUS ? start + 1 : start;
  let significant = 0;
  let dots = 0;
  let digitsBefore = 0;
  let digitsAfter = 0;
  for (; i < end; i++) {
    const d = src[i] ?? 0;
    if (d === DOT) {
      dots += 1;
      continue;
    }
    if (d < ZERO || d > NINE) return numberKind(src.toString('latin1', start, end));
    if (significant > 0 || d !== ZERO) significant += 1;
    if (dots === 0) digitsBefore += 1;
    else digitsAfter += 1;
  }
  return dots === 1 && digitsBefore > 0 && digitsAfter > 0 && significant <= DECIMAL_DIGITS
    ? KIND.double
    : numberKind(src.toString('latin1', start, end));
}

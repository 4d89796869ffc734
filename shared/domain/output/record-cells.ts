import { KIND, numberKind } from './column-types';

/**
 * The columnar formats' reader of a record: the record path's own text (compact JSON it wrote itself, numbers as the
 * source's literals), walked once without building it as objects. Each column-level value (a top-level field, or a
 * field one level into a top-level object) is reported as where it lies in the text and what it is, so the schema
 * pass and the writers take only what they need: a kind bit, a decoded string, a number's literal, nested JSON
 * text. This replaced two full lossless-json parses per record (docs/PERFORMANCE.md, "Columnar formats"); the old
 * path is kept as the oracle of a differential test (test/unit/domain/output/record-cells.test.ts).
 *
 * The text must be what the record path writes: compact, valid JSON of one object. Anything else is a defect (the
 * record path and this reader disagree) and throws, never a guess.
 */

/** What a value is, by its first character. */
export const VALUE = { string: 1, number: 2, true: 3, false: 4, null: 5, nested: 6 } as const;
export type ValueTag = (typeof VALUE)[keyof typeof VALUE];

/** One column-level value of the record being read: `text.slice(start, end)` is its JSON text. */
export interface RawValue {
  tag: ValueTag;
  start: number;
  end: number;
  /** A string or nested value whose text holds a backslash escape. */
  escaped: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** A defect of ours, not of the source: the record path wrote text this reader does not expect. */
const malformed = (at: number): Error =>
  new Error(`the record path wrote text the columnar reader cannot read (at UTF-16 offset ${at})`);

/** Reads records; one instance per writer, its scratch state reused from record to record. */
export class RecordCells {
  private text = '';
  private escaped = false;
  /** Where the next backslash of the text is, at or after the last string read (Infinity: none). */
  private slash = -1;
  private readonly value: RawValue = { tag: VALUE.null, start: 0, end: 0, escaped: false };

  /**
   * Calls `visit` for every column-level value of the record, in the text's order: `sub` is undefined for a
   * top-level field and the field's name one level into a top-level object (an empty object visits nothing). The
   * RawValue passed is reused: read it before returning.
   */
  read(text: string, visit: (top: string, sub: string | undefined, value: RawValue) => void): void {
    this.text = text;
    this.slash = -1;
    let i = 0;
    if (text.charCodeAt(i) !== OPEN_OBJECT) throw malformed(i);
    i += 1;
    if (text.charCodeAt(i) === CLOSE_OBJECT) return this.end(i + 1);
    for (;;) {
      const keyEnd = this.stringEnd(i);
      const top = this.decodeKey(i, keyEnd);
      i = keyEnd;
      if (text.charCodeAt(i) !== COLON) throw malformed(i);
      i += 1;
      if (text.charCodeAt(i) === OPEN_OBJECT) {
        i += 1;
        if (text.charCodeAt(i) === CLOSE_OBJECT) i += 1;
        else
          for (;;) {
            const subEnd = this.stringEnd(i);
            const sub = this.decodeKey(i, subEnd);
            i = subEnd;
            if (text.charCodeAt(i) !== COLON) throw malformed(i);
            i = this.readValue(i + 1);
            visit(top, sub, this.value);
            const c = text.charCodeAt(i);
            i += 1;
            if (c === CLOSE_OBJECT) break;
            if (c !== COMMA) throw malformed(i - 1);
          }
      } else {
        i = this.readValue(i);
        visit(top, undefined, this.value);
      }
      const c = text.charCodeAt(i);
      i += 1;
      if (c === CLOSE_OBJECT) return this.end(i);
      if (c !== COMMA) throw malformed(i - 1);
    }
  }

  private end(i: number): void {
    if (i !== this.text.length) throw malformed(i);
  }

  /** The index after the string starting at `i` (a quote); sets `escaped`. */
  private stringEnd(i: number): number {
    const text = this.text;
    if (text.charCodeAt(i) !== QUOTE) throw malformed(i);
    const quote = text.indexOf('"', i + 1);
    if (quote === -1) throw malformed(i);
    // The next backslash of the record, found once and reused while it lies ahead (no rescan per string).
    if (this.slash <= i) {
      const next = text.indexOf('\\', i + 1);
      this.slash = next === -1 ? Infinity : next;
    }
    if (this.slash > quote) {
      this.escaped = false;
      return quote + 1;
    }
    this.escaped = true;
    for (let j = this.slash; j < text.length;) {
      const c = text.charCodeAt(j);
      if (c === BACKSLASH) j += 2;
      else if (c === QUOTE) return j + 1;
      else j += 1;
    }
    throw malformed(i);
  }

  private decodeKey(start: number, end: number): string {
    return this.escaped
      ? (JSON.parse(this.text.slice(start, end)) as string)
      : this.text.slice(start + 1, end - 1);
  }

  /** Reads the value at `i` into `this.value`; returns the index after it. */
  private readValue(i: number): number {
    const text = this.text;
    const value = this.value;
    const c = text.charCodeAt(i);
    value.start = i;
    value.escaped = false;
    let end: number;
    if (c === QUOTE) {
      end = this.stringEnd(i);
      value.tag = VALUE.string;
      value.escaped = this.escaped;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      end = this.nestedEnd(i);
      value.tag = VALUE.nested;
      value.escaped = this.escaped;
    } else if (c === 0x74) {
      end = i + 4;
      value.tag = VALUE.true;
    } else if (c === 0x66) {
      end = i + 5;
      value.tag = VALUE.false;
    } else if (c === 0x6e) {
      end = i + 4;
      value.tag = VALUE.null;
    } else {
      end = i;
      for (;;) {
        const d = text.charCodeAt(end);
        // Digits, '-', '+', '.', 'e', 'E'.
        if ((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b || d === 0x2e || d === 0x65 || d === 0x45)
          end += 1;
        else break;
      }
      if (end === i) throw malformed(i);
      value.tag = VALUE.number;
    }
    value.end = end;
    return end;
  }

  /** The index after the object or array starting at `i`; sets `escaped` when a string inside has an escape. */
  private nestedEnd(i: number): number {
    const text = this.text;
    let depth = 0;
    let escaped = false;
    let j = i;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) {
        j = this.stringEnd(j);
        escaped ||= this.escaped;
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth += 1;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth -= 1;
        if (depth === 0) {
          this.escaped = escaped;
          return j + 1;
        }
      } else if (Number.isNaN(c)) throw malformed(j);
      j += 1;
    }
  }

  /** The kind bit of the value (0 for null); a string counts as a timestamp where `timestamp` says so. */
  kind(value: RawValue, timestamp: boolean): number {
    switch (value.tag) {
      case VALUE.string:
        return timestamp ? KIND.timestamp : KIND.string;
      case VALUE.number:
        return literalKind(this.text, value.start, value.end);
      case VALUE.true:
      case VALUE.false:
        return KIND.boolean;
      case VALUE.null:
        return 0;
      case VALUE.nested:
        return KIND.nested;
    }
  }

  /** A string value, decoded. */
  string(value: RawValue): string {
    return value.escaped
      ? (JSON.parse(this.text.slice(value.start, value.end)) as string)
      : this.text.slice(value.start + 1, value.end - 1);
  }

  /** A number's literal, as the source wrote it. */
  literal(value: RawValue): string {
    return this.text.slice(value.start, value.end);
  }

  /**
   * The value as JSON text. The record path's text already is what JSON.stringify (and lossless-json) would write:
   * compact, literals kept, strings re-encoded wherever an escape or a control character was (the differential
   * test holds this on random source lines), so the slice is the answer.
   */
  json(value: RawValue): string {
    return this.text.slice(value.start, value.end);
  }
}

/** A number literal's kind: the common short integers without BigInt, the rest by numberKind. */
function literalKind(text: string, start: number, end: number): number {
  let i = text.charCodeAt(start) === 0x2d ? start + 1 : start;
  // Up to 15 digits, no leading zero (or a lone 0): well within ±2^53.
  if (end - i <= 15 && end > i && (text.charCodeAt(i) !== 0x30 || end - i === 1)) {
    for (; i < end; i++) {
      const d = text.charCodeAt(i);
      if (d < 0x30 || d > 0x39) return numberKind(text.slice(start, end));
    }
    // "-0" is a double (a negative zero), not an integer.
    return end - start === 2 && text.charCodeAt(start) === 0x2d && text.charCodeAt(start + 1) === 0x30
      ? numberKind('-0')
      : KIND.safeInteger;
  }
  return numberKind(text.slice(start, end));
}

import { sanitizeName, sanitizeValue, withSuffix } from './sanitize';

/**
 * A single-pass, lossless rewrite of one JSON line: it validates the JSON, sanitises keys (as names) and strings
 * (as values), drops insignificant white space and copies every number literal verbatim, so that
 * 9007199254740993, 1e400 and -0 keep the source's digits (JSON.parse + JSON.stringify would round them, turn
 * 1e400 into null and -0 into 0). It never builds the record as objects: unchanged stretches of the line are
 * copied as slices, which is also what makes it several times faster than parse + sanitise + stringify.
 *
 * Nesting is followed with an explicit stack (no recursion), bounded by MAX_RECORD_DEPTH: a deeper line is
 * rejected with a reason, so a poison line is quarantined instead of throwing RangeError.
 *
 * The caller sees the top-level fields it asked for through `FieldHooks`, which is how records.ts validates
 * `name`, `time`, `id`, `profile` and `props` and replaces `time` in the same pass.
 */

export const MAX_RECORD_DEPTH = 100;

/** A line that is not well-formed JSON (`syntax`), or one nested deeper than MAX_RECORD_DEPTH (`depth`). */
export class LineSyntaxError extends Error {
  override readonly name = 'LineSyntaxError';
  constructor(
    message: string,
    readonly kind: 'syntax' | 'depth' = 'syntax',
  ) {
    super(message);
  }
}

/** What the scanner found as the value of a top-level field the caller watches. */
export type FieldValue =
  | { type: 'string'; value: string }
  | { type: 'number'; literal: string }
  | { type: 'object' | 'array' | 'literal' };

export interface FieldHooks {
  /** Index of a watched top-level field (>= 0), or -1 for any other key. Called with the raw (decoded) key. */
  watch(key: string): number;
  /**
   * The value of a watched field. A string (e.g. a normalised time) replaces the value in the output, as JSON
   * text; undefined keeps the value as the general rules write it.
   */
  seen(field: number, value: FieldValue): string | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

const OBJECT = 1;
const ARRAY = 2;
/** Objects with more keys than this track their names in a Set rather than by linear search. */
const LINEAR_KEYS = 32;

const isWhiteSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** The names already used in one object, for the collision rule (a later key that sanitises alike gets -2, -3…). */
class KeySet {
  private list: string[] = [];
  private set: Set<string> | undefined;

  reset(): void {
    this.list.length = 0;
    this.set = undefined;
  }

  has(name: string): boolean {
    return this.set ? this.set.has(name) : this.list.includes(name);
  }

  add(name: string): void {
    if (this.set) {
      this.set.add(name);
      return;
    }
    this.list.push(name);
    if (this.list.length > LINEAR_KEYS) this.set = new Set(this.list);
  }
}

/** Reused between lines: one scanner per thread, lines are processed one at a time. */
const keySets: KeySet[] = [];
const containers = new Uint8Array(MAX_RECORD_DEPTH + 1);

class Scanner {
  out = '';
  private copyFrom = 0;
  pos = 0;

  constructor(private readonly text: string) {}

  fail(what: string): never {
    const c = this.text.charCodeAt(this.pos);
    const found = Number.isNaN(c) ? 'the end of the line' : `${JSON.stringify(this.text[this.pos])}`;
    throw new LineSyntaxError(`${what}, found ${found} at position ${this.pos}`);
  }

  /** Appends the unchanged stretch of the source up to `end`. */
  flush(end: number): void {
    if (end > this.copyFrom) this.out += this.text.slice(this.copyFrom, end);
  }

  /** Replaces source[from, to) by `replacement` in the output. */
  replace(from: number, to: number, replacement: string): void {
    this.flush(from);
    this.out += replacement;
    this.copyFrom = to;
  }

  /** White space is dropped from the output (JSON.stringify writes none). */
  skipWhiteSpace(): void {
    const { text } = this;
    let pos = this.pos;
    if (!isWhiteSpace(text.charCodeAt(pos))) return;
    this.flush(pos);
    while (isWhiteSpace(text.charCodeAt(pos))) pos += 1;
    this.pos = pos;
    this.copyFrom = pos;
  }

  /**
   * Scans the string at pos (an opening quote). Returns its end (after the closing quote) and whether it can be
   * copied as is: no escape, no control character, no lone surrogate.
   */
  private stringEnd(): { end: number; clean: boolean } {
    const { text } = this;
    let clean = true;
    for (let i = this.pos + 1; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) return { end: i + 1, clean };
      if (c === BACKSLASH) {
        clean = false;
        i += 1;
      } else if (c < 0x20) {
        this.pos = i;
        this.fail('a control character must be escaped in a string');
      } else if (c >= 0x7f) {
        if (c <= 0x9f) clean = false;
        else if (c >= 0xd800 && c <= 0xdfff) {
          const next = text.charCodeAt(i + 1);
          if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i += 1;
          else clean = false;
        }
      }
    }
    this.pos = text.length;
    return this.fail('unterminated string');
  }

  /** The decoded text of the string at pos; advances past it. */
  readString(): { value: string; start: number; clean: boolean } {
    const start = this.pos;
    const { end, clean } = this.stringEnd();
    this.pos = end;
    const value = clean ? this.text.slice(start + 1, end - 1) : decodeString(this.text, start, end, this);
    return { value, start, clean };
  }

  /** A string value: copied when clean, otherwise decoded, sanitised and re-encoded exactly as JSON.stringify would. */
  stringValue(): void {
    const { value, start, clean } = this.readString();
    if (!clean) this.replace(start, this.pos, JSON.stringify(sanitizeValue(value)));
  }

  numberLiteral(): string {
    const { text } = this;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === MINUS) pos += 1;
    const first = text.charCodeAt(pos);
    if (first === ZERO) pos += 1;
    else if (isDigit(first)) while (isDigit(text.charCodeAt(pos))) pos += 1;
    else return this.failAt(pos, 'a digit expected');
    if (text.charCodeAt(pos) === DOT) {
      pos += 1;
      if (!isDigit(text.charCodeAt(pos))) return this.failAt(pos, 'a digit expected after "."');
      while (isDigit(text.charCodeAt(pos))) pos += 1;
    }
    const e = text.charCodeAt(pos);
    if (e === LOWER_E || e === UPPER_E) {
      pos += 1;
      const sign = text.charCodeAt(pos);
      if (sign === PLUS || sign === MINUS) pos += 1;
      if (!isDigit(text.charCodeAt(pos))) return this.failAt(pos, 'a digit expected in the exponent');
      while (isDigit(text.charCodeAt(pos))) pos += 1;
    }
    this.pos = pos;
    return text.slice(start, pos);
  }

  literal(): void {
    const { text, pos } = this;
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        this.pos = pos + word.length;
        return;
      }
    }
    this.fail('a JSON value expected');
  }

  private failAt(pos: number, what: string): never {
    this.pos = pos;
    return this.fail(what);
  }

  expect(code: number, what: string): void {
    this.skipWhiteSpace();
    if (this.text.charCodeAt(this.pos) !== code) this.fail(what);
    this.pos += 1;
  }

  peek(): number {
    this.skipWhiteSpace();
    return this.text.charCodeAt(this.pos);
  }

  /** Writes the object key at pos as a sanitised, unique name of the object at `depth`; returns the raw key. */
  key(depth: number): string {
    if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail('a key (a string in double quotes) expected');
    const { value, start, clean } = this.readString();
    const keys = keySets[depth] ?? (keySets[depth] = new KeySet());
    let name = clean && isPlainName(value) ? value : sanitizeName(value);
    if (keys.has(name)) {
      const base = name;
      for (let n = 2; keys.has(name); n += 1) name = withSuffix(base, n);
    }
    keys.add(name);
    // A clean key that stays the same is already in the output as the source wrote it.
    if (!(clean && name === value)) this.replace(start, this.pos, JSON.stringify(name));
    return value;
  }

  /** Checks that only white space follows the value and appends the rest of the copied stretch. */
  finish(): void {
    const end = this.pos;
    this.flush(end);
    this.copyFrom = end;
    this.skipWhiteSpace();
    if (this.pos < this.text.length) this.fail('the end of the line expected after the record');
  }

  start(): void {
    this.skipWhiteSpace();
  }
}

/** A key that sanitizeName returns unchanged, recognised without a lookup: printable ASCII but "/", 1–200 long. */
function isPlainName(key: string): boolean {
  const { length } = key;
  if (length === 0 || length > 200) return false;
  for (let i = 0; i < length; i += 1) {
    const c = key.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === SLASH) return false;
  }
  return !(key === '.' || key === '..');
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function decodeString(text: string, start: number, end: number, scanner: Scanner): string {
  let value = '';
  let from = start + 1;
  for (let i = from; i < end - 1; i += 1) {
    if (text.charCodeAt(i) !== BACKSLASH) continue;
    value += text.slice(from, i);
    const kind = text[i + 1] ?? '';
    if (kind === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        scanner.pos = i;
        scanner.fail('a \\u escape needs four hex digits');
      }
      value += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      const decoded = ESCAPES[kind];
      if (decoded === undefined) {
        scanner.pos = i;
        scanner.fail('an unknown escape');
      }
      value += decoded;
      i += 1;
    }
    from = i + 1;
  }
  return value + text.slice(from, end - 1);
}

/** The shape of the line's top-level value when it is not an object (still checked to be JSON). */
export type TopLevel = 'object' | 'other';

/**
 * Rewrites one line. Returns the sanitised JSON text (no white space, numbers verbatim) and whether the top
 * level was an object; throws LineSyntaxError when the line is not JSON or nested deeper than MAX_RECORD_DEPTH.
 */
export function rewriteLine(text: string, hooks: FieldHooks): { json: string; topLevel: TopLevel } {
  const s = new Scanner(text);
  s.start();
  const topLevel: TopLevel = text.charCodeAt(s.pos) === OPEN_OBJECT ? 'object' : 'other';
  let depth = 0;
  let watched = -1;
  // The state machine: `afterValue` false means a value is expected at pos.
  let afterValue = false;
  for (;;) {
    if (!afterValue) {
      const c = s.peek();
      const field = watched;
      watched = -1;
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (field >= 0) hooks.seen(field, { type: c === OPEN_OBJECT ? 'object' : 'array' });
        if (depth >= MAX_RECORD_DEPTH)
          throw new LineSyntaxError(`nested deeper than ${MAX_RECORD_DEPTH} levels`, 'depth');
        depth += 1;
        containers[depth] = c === OPEN_OBJECT ? OBJECT : ARRAY;
        s.pos += 1;
        const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        if (c === OPEN_OBJECT) (keySets[depth] ?? (keySets[depth] = new KeySet())).reset();
        if (s.peek() === close) {
          s.pos += 1;
          depth -= 1;
          afterValue = true;
        } else if (c === OPEN_OBJECT) {
          watched = member(s, depth, hooks);
        }
        continue;
      }
      if (field >= 0) watchedScalar(s, c, field, hooks);
      else if (c === QUOTE) s.stringValue();
      else if (c === MINUS || isDigit(c)) s.numberLiteral();
      else s.literal();
      afterValue = true;
    }
    if (depth === 0) break;
    const c = s.peek();
    if (c === COMMA) {
      s.pos += 1;
      afterValue = false;
      if (containers[depth] === OBJECT) watched = member(s, depth, hooks);
    } else if (c === (containers[depth] === OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
      s.pos += 1;
      depth -= 1;
    } else {
      s.fail(containers[depth] === OBJECT ? 'a "," or "}" expected' : 'a "," or "]" expected');
    }
  }
  s.finish();
  return { json: s.out, topLevel };
}

/** Reads `"key":` of an object member; returns the watched field's index for a top-level key, else -1. */
function member(s: Scanner, depth: number, hooks: FieldHooks): number {
  s.skipWhiteSpace();
  const raw = s.key(depth);
  s.expect(COLON, 'a ":" expected after the key');
  return depth === 1 ? hooks.watch(raw) : -1;
}

/** A scalar value of a watched field: shown to the hook, written as its replacement or under the general rules. */
function watchedScalar(s: Scanner, c: number, field: number, hooks: FieldHooks): void {
  const start = s.pos;
  if (c === QUOTE) {
    const { value, clean } = s.readString();
    const replacement = hooks.seen(field, { type: 'string', value });
    if (replacement !== undefined) s.replace(start, s.pos, replacement);
    else if (!clean) s.replace(start, s.pos, JSON.stringify(sanitizeValue(value)));
  } else if (c === MINUS || isDigit(c)) {
    const replacement = hooks.seen(field, { type: 'number', literal: s.numberLiteral() });
    if (replacement !== undefined) s.replace(start, s.pos, replacement);
  } else {
    s.literal();
    hooks.seen(field, { type: 'literal' });
  }
}

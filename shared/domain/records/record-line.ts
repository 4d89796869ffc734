import { copyBytes, viewOf } from './byte-copy';
import { sanitizeName, sanitizeValue, withSuffix } from './sanitize';

/**
 * A single-pass, lossless rewrite of one JSON line, on its UTF-8 bytes: it validates the JSON, sanitises keys (as
 * names) and strings (as values), drops insignificant white space and copies every number literal verbatim, so
 * that 9007199254740993, 1e400 and -0 keep the source's digits (JSON.parse + JSON.stringify would round them,
 * turn 1e400 into null and -0 into 0). It never builds the record as objects or even as a string: unchanged
 * stretches of the line are copied byte for byte, and only keys and strings that change are decoded.
 *
 * Nesting is followed with an explicit stack (no recursion), bounded by MAX_RECORD_DEPTH: a deeper line is
 * rejected with a reason, so a poison line is quarantined instead of throwing RangeError.
 *
 * The caller sees the top-level fields it asked for through `FieldHooks`, which is how parse-record.ts validates
 * `name`, `time`, `id`, `profile` and `props` and replaces `time` in the same pass.
 *
 * The line must be valid UTF-8 (blocks.ts replaces invalid sequences by U+FFFD first, as decoding would).
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

/**
 * What the scanner found as the value of a top-level field the caller watches. The scanner reuses these objects from
 * one field to the next: a hook reads what it needs during `seen` and keeps no reference.
 */
export type FieldValue =
  | { readonly type: 'string'; readonly value: string }
  | NumberValue
  | { readonly type: 'object' | 'array' | 'literal' };

/** A number: its literal's text on demand, and its value read from its digits when that is exact and quick. */
export interface NumberValue {
  readonly type: 'number';
  /** The literal as written in the source. */
  literal(): string;
  /** The literal's value when it is an unsigned integer of at most MAX_SAFE_DIGITS digits (exact), else -1. */
  readonly integer: number;
  /** How many digits that integer has (0 when `integer` is -1). */
  readonly digits: number;
}

export interface FieldHooks {
  /**
   * Index of a watched top-level field (>= 0), or -1 for any other key. Called with the raw (decoded) key. It must
   * depend on the key alone: the scanner remembers the answer with the key (for these hooks).
   */
  watch(key: string): number;
  /**
   * The value of a watched field. A string or bytes (e.g. a normalised time) replace the value in the output, as
   * JSON text (bytes are UTF-8, copied before the next call); undefined keeps the value as the general rules write it.
   */
  seen(field: number, value: FieldValue): string | Buffer | undefined;
}

/**
 * Where the scanner reports a record's column-level values as it writes them (a top-level field, or a field one level
 * into a top-level object; an empty object has none): the columnar formats' table (output/record-bytes.ts), which
 * then needs no second read of the record. `top` and `sub` are the names as written (sanitised, made unique), and
 * out[start, end) the value's text in the output, valid once the line is rewritten (a watched field's value may be
 * replaced, a number by a string). `escaped`, read of strings only, is true for a string that may hold an escape
 * (never false for one that does): it is the source string's, as the only replacement a hook makes is an ISO time,
 * which holds none (record-bytes.test.ts checks every reported string against a read of the output).
 */
export interface ValueSink {
  begin(): void;
  add(top: string, sub: string | undefined, start: number, end: number, escaped: boolean): void;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const SPACE = 0x20;
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
const LOWER_A = 0x61;
const LOWER_B = 0x62;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const QUESTION = 0x3f;
const DEL = 0x7f;
// U+0080–U+009F (C1 controls) are 0xC2 0x80–0x9F in UTF-8.
const C1_LEAD = 0xc2;

const OBJECT = 1;
const ARRAY = 2;
/** Objects with more keys than this track their names in a Set rather than by linear search. */
const LINEAR_KEYS = 32;
const MAX_PLAIN_NAME = 200;
/**
 * What one key's source bytes (between its quotes) become. Keys repeat on every record, so a key is decoded,
 * sanitised and encoded once, then found by a hash of its bytes: no string is allocated per key.
 */
interface KeyEntry {
  /** The source bytes between the quotes, to tell keys of one hash apart. */
  bytes: Uint8Array;
  /** The decoded key, as the hooks see it. */
  raw: string;
  /** The sanitised name, before the collision rule. */
  name: string;
  /** The name as JSON text, or undefined when the source's text of the key is already that. */
  json: Buffer | undefined;
  /** A view of `json`, for copying it (byte-copy.ts). */
  jsonView: DataView | undefined;
  /**
   * The stamps of `name` (shared by the keys that sanitise to it); undefined when the scanner already held MAX_NAMES
   * names as the key was first read, and the key's objects then list the name (KeySet's `extra`).
   */
  stamps: NameStamps | undefined;
  /** The hooks that last answered `watch` for this key at the top level, and their answer. */
  watchedBy: FieldHooks | undefined;
  watched: number;
}
/**
 * A direct-mapped table by the low bits of the hash (an array read is cheaper than a Map lookup): a key evicts
 * another of the same slot, and bytes are compared on every hit, so a shared slot only costs a recomputation.
 */
const KEY_SLOTS = 4096;
/** Longer keys are worked out every time: the cache stays small, and long keys are rare. */
const KEY_CACHE_BYTES = 256;
/** A watched string's bytes and its decoded value. */
interface CachedString {
  bytes: Uint8Array;
  value: string;
}
const STRING_SLOTS = 1024;
/** Longer watched strings are decoded every time. */
const STRING_CACHE_BYTES = 128;
/**
 * Distinct names given stamps: past it, a line's new names are listed per object (as before stamps), and all are
 * dropped before the next line. A line of many distinct keys (up to the line's bound) costs no more than its names.
 */
const MAX_NAMES = 16_384;

const isWhiteSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** Bytes of a string as scanString tells them apart: printable ASCII a name keeps, and the others. */
const PLAIN_BYTE = 0;
const QUOTE_BYTE = 1;
const ESCAPE_BYTE = 2;
const CONTROL_BYTE = 3;
/** DEL and every byte of a multi-byte character. */
const HIGH_BYTE = 4;
/** Space and "/": allowed in a string, changed in a name. */
const SEPARATOR_BYTE = 5;

/** A class per byte value: one table read per byte instead of five comparisons (one table per Scanner). */
function byteClasses(): Uint8Array {
  const classes = new Uint8Array(256);
  for (let c = 0; c < 256; c += 1) {
    if (c === QUOTE) classes[c] = QUOTE_BYTE;
    else if (c === BACKSLASH) classes[c] = ESCAPE_BYTE;
    else if (c < 0x20) classes[c] = CONTROL_BYTE;
    else if (c >= DEL) classes[c] = HIGH_BYTE;
    else if (c === SLASH || c === SPACE) classes[c] = SEPARATOR_BYTE;
    else classes[c] = PLAIN_BYTE;
  }
  return classes;
}

/** One distinct name a LineScanner has written: which object, at each depth, used it last (by its stamp). */
interface NameStamps {
  readonly name: string;
  readonly usedBy: number[];
}

/**
 * The names of one LineScanner, one NameStamps per distinct name (two keys that sanitise alike share one), and the
 * stamps that tell its objects apart: every object opened gets a new one.
 */
class Names {
  private readonly byName = new Map<string, NameStamps>();
  private lastStamp = 0;

  get size(): number {
    return this.byName.size;
  }

  /** The name's stamps, made if there is room for them (MAX_NAMES). */
  stampsOf(name: string): NameStamps | undefined {
    let stamps = this.byName.get(name);
    if (stamps === undefined && this.byName.size < MAX_NAMES) {
      stamps = { name, usedBy: [] };
      this.byName.set(name, stamps);
    }
    return stamps;
  }

  find(name: string): NameStamps | undefined {
    return this.byName.get(name);
  }

  nextStamp(): number {
    this.lastStamp += 1;
    return this.lastStamp;
  }

  /** Only between lines: an object of the line being read would lose the names it used. */
  clear(): void {
    this.byName.clear();
  }
}

/**
 * The names already used in one object, for the collision rule (a later key that sanitises alike gets -2, -3…):
 * a name's NameStamps carry the stamp of the object at this depth that used it, so a key costs one comparison, and
 * opening an object costs a new stamp. A name the collision rule makes (`name-2`) may have none yet: such names are
 * listed (`extra`), and only an object that made one looks there.
 */
class KeySet {
  private stamp = 0;
  // A count rather than `list.length = 0`: setting an array's length is a runtime call, made once per object.
  private readonly extra: string[] = [];
  private count = 0;
  private set: Set<string> | undefined;

  constructor(
    private readonly names: Names,
    private readonly depth: number,
  ) {}

  reset(): void {
    this.stamp = this.names.nextStamp();
    this.count = 0;
    this.set = undefined;
  }

  /** Whether the object has used the name. */
  hasName(stamps: NameStamps): boolean {
    return stamps.usedBy[this.depth] === this.stamp || (this.count > 0 && this.hasExtra(stamps.name));
  }

  addName(stamps: NameStamps): void {
    stamps.usedBy[this.depth] = this.stamp;
  }

  has(name: string): boolean {
    const stamps = this.names.find(name);
    return stamps !== undefined ? this.hasName(stamps) : this.hasExtra(name);
  }

  add(name: string): void {
    const stamps = this.names.find(name);
    if (stamps !== undefined) return this.addName(stamps);
    if (this.set) {
      this.set.add(name);
      return;
    }
    this.extra[this.count] = name;
    this.count += 1;
    if (this.count > LINEAR_KEYS) this.set = new Set(this.extra.slice(0, this.count));
  }

  private hasExtra(name: string): boolean {
    if (this.set) return this.set.has(name);
    for (let i = 0; i < this.count; i += 1) if (this.extra[i] === name) return true;
    return false;
  }
}

/**
 * Where rewritten lines go: a growable byte buffer, reused between lines. Stretches are copied by copyBytes, with a
 * view of the source kept while the source stays the same (a block, copied from for all its lines).
 */
export class ByteSink {
  private buffer: Buffer;
  private view: DataView;
  /** The source last copied from and a view of it. */
  private source: Buffer | undefined;
  private sourceView: DataView;
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
    this.view = viewOf(this.buffer);
    this.sourceView = this.view;
  }

  /** The bytes written so far are bytes[0, length); a later write may move them to a larger buffer. */
  get bytes(): Buffer {
    return this.buffer;
  }

  reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
    this.view = viewOf(grown);
  }

  /** Appends source[start, end). */
  copy(source: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    if (source !== this.source) {
      this.source = source;
      this.sourceView = viewOf(source);
    }
    this.length += copyBytes(source, this.sourceView, start, end, this.buffer, this.view, this.length);
  }

  /** Appends all of `bytes`, a short text made elsewhere (a key's name, a time), given a view of it. */
  append(bytes: Buffer, view: DataView): void {
    this.reserve(bytes.length);
    this.length += copyBytes(bytes, view, 0, bytes.length, this.buffer, this.view, this.length);
  }

  text(value: string): void {
    this.reserve(value.length * 3);
    this.length += this.bytes.write(value, this.length);
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length] = value;
    this.length += 1;
  }
}

/**
 * One line's reading position and output, over the tables of its LineScanner. One per LineScanner, set to each line
 * in turn (`begin`): a new one per line was a sixth of the record path's heap allocation.
 */
class Scanner {
  pos = 0;
  private copyFrom = 0;
  private src: Buffer = Buffer.alloc(0);
  end = 0;
  private out: ByteSink = new ByteSink(0);

  constructor(
    private readonly keyEntries: (KeyEntry | undefined)[],
    private readonly keySets: KeySet[],
    private readonly names: Names,
  ) {}

  /** Starts the line src[start, end), written to `out`. */
  begin(src: Buffer, start: number, end: number, out: ByteSink): this {
    this.src = src;
    this.end = end;
    this.out = out;
    this.pos = start;
    this.copyFrom = start;
    this.clean = true;
    this.plain = true;
    this.hash = 0;
    this.patches = 0;
    return this;
  }

  at(pos: number): number {
    return pos < this.end ? (this.src[pos] ?? -1) : -1;
  }

  fail(what: string): never {
    const c = this.at(this.pos);
    const found = c === -1 ? 'the end of the line' : JSON.stringify(String.fromCharCode(c));
    throw new LineSyntaxError(`${what}, found ${found} at byte ${this.pos}`);
  }

  /** Where the byte at pos lands in the output: the stretch from copyFrom is copied as it is, before pos. */
  outAt(): number {
    return this.out.length + (this.pos - this.copyFrom);
  }

  /** Appends the unchanged stretch of the source up to `end`. */
  flush(end: number): void {
    if (end <= this.copyFrom) return;
    const at = this.out.length;
    this.out.copy(this.src, this.copyFrom, end);
    if (this.patches > 0) this.patch(at - this.copyFrom);
  }

  /**
   * Keys whose name has as many bytes as the source's key (a space made "-"), as source positions and their names'
   * JSON text: written over the copied stretch once it is copied, so that the stretch is not cut in two at each one.
   * Every one lies in the next stretch flushed (a key is recorded at or after copyFrom, and every flush is at a
   * position read after it).
   */
  private patches = 0;
  private readonly patchAt: number[] = [];
  private readonly patchText: Buffer[] = [];

  /** Writes the recorded names over the stretch just copied: source position p is output position p + shift. */
  private patch(shift: number): void {
    const bytes = this.out.bytes;
    for (let k = 0; k < this.patches; k += 1) {
      const text = this.patchText[k];
      if (text === undefined) continue;
      let at = (this.patchAt[k] ?? 0) + shift;
      for (let i = 0; i < text.length; i += 1) bytes[at++] = text[i] ?? 0;
    }
    this.patches = 0;
  }

  /** Replaces the key source[from, to) by `json`, of the same length, when the stretch holding it is copied. */
  private patchLater(from: number, json: Buffer): void {
    this.patchAt[this.patches] = from;
    this.patchText[this.patches] = json;
    this.patches += 1;
  }

  /** Replaces source[from, to) by `replacement` (text, or its UTF-8 bytes) in the output. */
  replace(from: number, to: number, replacement: string | Buffer, view?: DataView): void {
    this.flush(from);
    if (typeof replacement === 'string') this.out.text(replacement);
    else this.out.append(replacement, view ?? this.viewOfReplacement(replacement));
    this.copyFrom = to;
  }

  /** A view of a hook's replacement bytes: the same buffer each time (the time's text), so its view is kept. */
  private viewOfReplacement(bytes: Buffer): DataView {
    if (bytes !== this.replacement) {
      this.replacement = bytes;
      this.replacementView = viewOf(bytes);
    }
    return this.replacementView;
  }

  private replacement: Buffer | undefined;
  private replacementView = viewOf(Buffer.alloc(0));

  /** White space is dropped from the output (JSON.stringify writes none). */
  skipWhiteSpace(): void {
    let pos = this.pos;
    if (!isWhiteSpace(this.at(pos))) return;
    this.flush(pos);
    while (isWhiteSpace(this.at(pos))) pos += 1;
    this.pos = pos;
    this.copyFrom = pos;
  }

  /** Set by scanString: no escape and no control character (copied as is). */
  clean = true;
  /** Set by scanString: every byte printable ASCII other than space and "/". */
  plain = true;
  /** Set by scanString: a hash of the string's bytes. */
  hash = 0;
  /** What each byte is to scanString (byteClasses). */
  private readonly classes = byteClasses();
  /** Set by key: the name the last key was written as (sanitised, made unique in its object). */
  name = '';
  /** Watched strings by the low bits of their hash: a direct-mapped cache, like the keys'. */
  private readonly strings: (CachedString | undefined)[] = new Array<CachedString | undefined>(
    STRING_SLOTS,
  ).fill(undefined);
  /** Per slot of `strings`: the hash of the last string that missed it. */
  private readonly stringHashes = new Int32Array(STRING_SLOTS);
  /** What a watched field's hook is shown, reused from field to field (see FieldValue). */
  private readonly seenString = { type: 'string' as const, value: '' };
  readonly seenNumber = new SeenNumber(this);

  /** Scans the string at pos (an opening quote), leaving pos after its closing quote; sets clean, plain, hash. */
  private scanString(): void {
    const { src, end, classes } = this;
    let clean = true;
    let plain = true;
    let hash = 0;
    for (let i = this.pos + 1; i < end; i += 1) {
      const c = src[i] ?? 0;
      const kind = classes[c] ?? 0;
      if (kind === PLAIN_BYTE) {
        hash = (Math.imul(hash, 31) + c) | 0;
        continue;
      }
      if (kind === QUOTE_BYTE) {
        this.pos = i + 1;
        this.clean = clean;
        this.plain = plain;
        this.hash = hash;
        return;
      }
      hash = (Math.imul(hash, 31) + c) | 0;
      if (kind === ESCAPE_BYTE) {
        clean = false;
        i += 1;
      } else if (kind === CONTROL_BYTE) {
        this.pos = i;
        this.fail('a control character must be escaped in a string');
      } else if (kind === HIGH_BYTE) {
        plain = false;
        if (c === DEL || (c === C1_LEAD && (src[i + 1] ?? 0) <= 0x9f)) clean = false;
      } else {
        plain = false;
      }
    }
    this.pos = end;
    this.fail('unterminated string');
  }

  /** The entry of the key whose string was just scanned from `start`: from the cache when its bytes match. */
  private keyEntry(start: number): KeyEntry {
    const from = start + 1;
    const length = this.pos - 1 - from;
    const slot = this.hash & (KEY_SLOTS - 1);
    const { keyEntries } = this;
    const cached = keyEntries[slot];
    if (cached !== undefined && this.sameBytes(cached.bytes, from, length)) return cached;
    const entry = this.newKeyEntry(start, from, length);
    if (length <= KEY_CACHE_BYTES) keyEntries[slot] = entry;
    return entry;
  }

  private sameBytes(bytes: Uint8Array, from: number, length: number): boolean {
    if (bytes.length !== length) return false;
    const { src } = this;
    for (let i = 0; i < length; i += 1) if (bytes[i] !== src[from + i]) return false;
    return true;
  }

  private newKeyEntry(start: number, from: number, length: number): KeyEntry {
    const { clean } = this;
    // Printable ASCII but space and "/", 1–200 bytes, not "." or "..": a name the rules leave as it is.
    const plain = clean && this.plain && length > 0 && length <= MAX_PLAIN_NAME && !this.isDots(from, length);
    const raw = plain ? this.latin1(from, from + length) : this.decode(start, clean);
    const name = plain ? raw : sanitizeName(raw);
    // A clean key that stays the same is already in the output as the source wrote it.
    const json = clean && name === raw ? undefined : Buffer.from(JSON.stringify(name));
    const bytes = Uint8Array.from(this.src.subarray(from, from + length));
    const jsonView = json === undefined ? undefined : viewOf(json);
    const stamps = this.names.stampsOf(name);
    return { bytes, raw, name, json, jsonView, stamps, watchedBy: undefined, watched: -1 };
  }

  /**
   * The clean string [start, pos) just scanned, decoded and, once it repeats, found by the hash of its bytes: a watched
   * field (the event name above all) mostly repeats, and the same string object also makes the groups' lookup by name
   * cheaper (its hash is kept with it).
   */
  private cachedString(start: number): string {
    const from = start + 1;
    const length = this.pos - 1 - from;
    if (length > STRING_CACHE_BYTES) return this.decode(start, true);
    const slot = this.hash & (STRING_SLOTS - 1);
    const { strings } = this;
    const cached = strings[slot];
    if (cached !== undefined && this.sameBytes(cached.bytes, from, length)) return cached.value;
    const value = this.decode(start, true);
    // Kept from its second sighting in the slot on: a string seen once (an ISO time above all) is not copied.
    if (this.stringHashes[slot] === this.hash)
      strings[slot] = { bytes: Uint8Array.from(this.src.subarray(from, from + length)), value };
    else this.stringHashes[slot] = this.hash;
    return value;
  }

  /** The decoded value of the string [start, pos). */
  private decode(start: number, clean: boolean): string {
    return clean
      ? this.src.toString('utf8', start + 1, this.pos - 1)
      : decodeEscapes(this.src.toString('utf8', start + 1, this.pos - 1), this, start);
  }

  /** A string value: copied when clean, otherwise written as JSON.stringify would write it sanitised (escapedValue). */
  stringValue(): void {
    const start = this.pos;
    this.scanString();
    if (!this.clean) this.escapedValue(start);
  }

  /**
   * The string value [start, pos) just scanned, which holds an escape, DEL or a C1 control, written as
   * `JSON.stringify(sanitizeValue(decoded))` would write it, on its bytes: control characters (escaped or not)
   * become "?", a lone surrogate U+FFFD, a quote and a backslash stay escaped, and every other escape becomes its
   * character's UTF-8. Making the three strings instead was a third of the record path's heap allocation
   * (record-line.test.ts holds every string to the strings' way).
   */
  private escapedValue(start: number): void {
    const { src } = this;
    const end = this.pos - 1;
    this.flush(start);
    const out = this.out;
    // Nothing written is longer than what it replaces: at most the string's own bytes.
    out.reserve(end + 1 - start);
    const bytes = out.bytes;
    let at = out.length;
    bytes[at++] = QUOTE;
    let i = start + 1;
    while (i < end) {
      const c = src[i] ?? 0;
      if (c === BACKSLASH) {
        const e = src[i + 1] ?? 0;
        i += 2;
        if (e === LOWER_U) {
          let code = this.hex4(i, start);
          i += 4;
          if (code >= 0xd800 && code <= 0xdfff) {
            const low =
              code <= 0xdbff && src[i] === BACKSLASH && src[i + 1] === LOWER_U ? this.hex4(i + 2, -1) : -1;
            if (low >= 0xdc00 && low <= 0xdfff) {
              code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
              i += 6;
            } else code = 0xfffd;
          }
          at = putCharacter(bytes, at, code);
        } else if (e === QUOTE || e === BACKSLASH) {
          bytes[at++] = BACKSLASH;
          bytes[at++] = e;
        } else if (e === SLASH) bytes[at++] = SLASH;
        else if (e === LOWER_B || e === LOWER_F || e === LOWER_N || e === LOWER_R || e === LOWER_T)
          bytes[at++] = QUESTION;
        else this.failAt(start, 'an unknown escape in a string');
      } else if (c === DEL) {
        bytes[at++] = QUESTION;
        i += 1;
      } else if (c === C1_LEAD && (src[i + 1] ?? 0) <= 0x9f) {
        bytes[at++] = QUESTION;
        i += 2;
      } else {
        bytes[at++] = c;
        i += 1;
      }
    }
    bytes[at++] = QUOTE;
    out.length = at;
    this.copyFrom = this.pos;
  }

  /** The four hex digits at `at` as a number; when they are not, a syntax error at `start`, or -1 if start is -1. */
  private hex4(at: number, start: number): number {
    let code = 0;
    for (let i = at; i < at + 4; i += 1) {
      const digit = i < this.end ? hexDigit(this.src[i] ?? 0) : -1;
      if (digit < 0) return start < 0 ? -1 : this.failAt(start, 'a \\u escape needs four hex digits');
      code = code * 16 + digit;
    }
    return code;
  }

  /** A watched field's string: decoded for the hook; written as the replacement, or under the general rules. */
  watchedString(field: number, hooks: FieldHooks): void {
    const start = this.pos;
    this.scanString();
    const { clean } = this;
    const value = clean ? this.cachedString(start) : this.decode(start, false);
    const seen = this.seenString;
    seen.value = value;
    const replacement = hooks.seen(field, seen);
    if (replacement !== undefined) this.replace(start, this.pos, replacement);
    else if (!clean) this.replace(start, this.pos, JSON.stringify(sanitizeValue(value)));
  }

  /** Moves past a number, checking its grammar; its text is copied as it is. */
  numberEnd(): void {
    let pos = this.pos;
    if (this.at(pos) === MINUS) pos += 1;
    const first = this.at(pos);
    if (first === ZERO) pos += 1;
    else if (isDigit(first)) while (isDigit(this.at(pos))) pos += 1;
    else return this.failAt(pos, 'a digit expected');
    if (this.at(pos) === DOT) {
      pos += 1;
      if (!isDigit(this.at(pos))) return this.failAt(pos, 'a digit expected after "."');
      while (isDigit(this.at(pos))) pos += 1;
    }
    const e = this.at(pos);
    if (e === LOWER_E || e === UPPER_E) {
      pos += 1;
      const sign = this.at(pos);
      if (sign === PLUS || sign === MINUS) pos += 1;
      if (!isDigit(this.at(pos))) return this.failAt(pos, 'a digit expected in the exponent');
      while (isDigit(this.at(pos))) pos += 1;
    }
    this.pos = pos;
  }

  latin1(start: number, end: number): string {
    return this.src.toString('latin1', start, end);
  }

  literal(): void {
    for (const word of LITERALS) {
      if (this.matches(word)) {
        this.pos += word.length;
        return;
      }
    }
    this.fail('a JSON value expected');
  }

  /** Whether `word` is at pos: a loop, as words are short and Buffer#compare costs a native call. */
  private matches(word: Uint8Array): boolean {
    const { src, pos } = this;
    if (pos + word.length > this.end) return false;
    for (let i = 0; i < word.length; i += 1) if (src[pos + i] !== word[i]) return false;
    return true;
  }

  failAt(pos: number, what: string): never {
    this.pos = pos;
    return this.fail(what);
  }

  expect(code: number, what: string): void {
    if (this.at(this.pos) !== code) {
      this.skipWhiteSpace();
      if (this.at(this.pos) !== code) this.fail(what);
    }
    this.pos += 1;
  }

  peek(): number {
    const c = this.at(this.pos);
    // Every byte that starts a token is above the space; compact JSON has no white space to skip.
    if (c > SPACE) return c;
    this.skipWhiteSpace();
    return this.at(this.pos);
  }

  /** Writes the object key at pos as a sanitised, unique name of the object at `depth`; returns the key's entry. */
  key(depth: number): KeyEntry {
    if (this.at(this.pos) !== QUOTE) this.fail('a key (a string in double quotes) expected');
    const start = this.pos;
    this.scanString();
    const entry = this.keyEntry(start);
    const keys = this.keySets[depth] ?? (this.keySets[depth] = new KeySet(this.names, depth));
    const { stamps } = entry;
    if (stamps !== undefined ? !keys.hasName(stamps) : !keys.has(entry.name)) {
      if (stamps !== undefined) keys.addName(stamps);
      else keys.add(entry.name);
      this.name = entry.name;
      const { json } = entry;
      if (json !== undefined) {
        if (json.length === this.pos - start) this.patchLater(start, json);
        else this.replace(start, this.pos, json, entry.jsonView);
      }
      return entry;
    }
    // The collision rule: a later key that sanitises like an earlier one of the object gets -2, -3…
    let name = entry.name;
    for (let n = 2; keys.has(name); n += 1) name = withSuffix(entry.name, n);
    keys.add(name);
    this.name = name;
    if (!(this.clean && name === entry.raw)) this.replace(start, this.pos, JSON.stringify(name));
    return entry;
  }

  private isDots(start: number, length: number): boolean {
    return length <= 2 && this.src[start] === DOT && (length === 1 || this.src[start + 1] === DOT);
  }

  /** Checks that only white space follows the value and appends the rest of the copied stretch. */
  finish(): void {
    const end = this.pos;
    this.flush(end);
    this.copyFrom = end;
    this.skipWhiteSpace();
    if (this.pos < this.end) this.fail('the end of the line expected after the record');
  }
}

const LITERALS = ['true', 'false', 'null'].map((word) => Buffer.from(word));

/** A hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  return lower >= LOWER_A && lower <= LOWER_F ? lower - LOWER_A + 10 : -1;
}

/**
 * Writes the character `code` (not a surrogate) at `at` as JSON.stringify writes it once sanitizeValue has made it a
 * value's: a control character (Unicode Cc) as "?", a quote or backslash escaped, any other as its UTF-8. Returns
 * where the next byte goes.
 */
function putCharacter(bytes: Buffer, at: number, code: number): number {
  let i = at;
  if (code < SPACE || (code >= DEL && code <= 0x9f)) bytes[i++] = QUESTION;
  else if (code === QUOTE || code === BACKSLASH) {
    bytes[i++] = BACKSLASH;
    bytes[i++] = code;
  } else if (code < 0x80) bytes[i++] = code;
  else if (code < 0x800) {
    bytes[i++] = 0xc0 | (code >> 6);
    bytes[i++] = 0x80 | (code & 0x3f);
  } else if (code < 0x10000) {
    bytes[i++] = 0xe0 | (code >> 12);
    bytes[i++] = 0x80 | ((code >> 6) & 0x3f);
    bytes[i++] = 0x80 | (code & 0x3f);
  } else {
    bytes[i++] = 0xf0 | (code >> 18);
    bytes[i++] = 0x80 | ((code >> 12) & 0x3f);
    bytes[i++] = 0x80 | ((code >> 6) & 0x3f);
    bytes[i++] = 0x80 | (code & 0x3f);
  }
  return i;
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

/** Resolves the escapes of a string's text (between its quotes). */
function decodeEscapes(text: string, scanner: Scanner, start: number): string {
  let value = '';
  let from = 0;
  for (let i = text.indexOf('\\'); i !== -1; i = text.indexOf('\\', from)) {
    value += text.slice(from, i);
    const kind = text[i + 1] ?? '';
    if (kind === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) scanner.failAt(start, 'a \\u escape needs four hex digits');
      value += String.fromCharCode(parseInt(hex, 16));
      from = i + 6;
    } else {
      const decoded = ESCAPES[kind];
      if (decoded === undefined) scanner.failAt(start, 'an unknown escape in a string');
      value += decoded;
      from = i + 2;
    }
  }
  return value + text.slice(from);
}

/**
 * U+FEFF (EF BB BF) at the very start of the line: a byte order mark, as a file saved with one starts. RFC 8259
 * lets a parser ignore it at the start of a JSON text, and each line is one; anywhere else it is not JSON.
 */
function hasByteOrderMark(src: Buffer, start: number, end: number): boolean {
  return end - start >= 3 && src[start] === 0xef && src[start + 1] === 0xbb && src[start + 2] === 0xbf;
}

/** The shape of the line's top-level value: only an object is a record. */
export type TopLevel = 'object' | 'other';

/**
 * The scanner of one record processor: the tables it keeps between lines (the key cache, the key sets and the
 * container stack of the line being rewritten) are this instance's, never a module's, so two processors, on one
 * thread or interleaved at any point (a hook that runs another scanner mid-line included), never see each other's
 * state. One instance per BlockScanner (shared/domain/records/blocks.ts).
 */
export class LineScanner {
  /** A key's entry by the low bits of its hash: a direct-mapped cache, bounded by KEY_SLOTS. */
  private readonly keyEntries: (KeyEntry | undefined)[] = new Array<KeyEntry | undefined>(KEY_SLOTS).fill(
    undefined,
  );
  /** The names used so far in each open object of the line, by depth. */
  private readonly keySets: KeySet[] = [];
  private readonly names = new Names();
  /** Whether each open container of the line, by depth, is an object or an array. */
  private readonly containers = new Uint8Array(MAX_RECORD_DEPTH + 1);
  private readonly scanner = new Scanner(this.keyEntries, this.keySets, this.names);

  /** Drops every name and the keys that point at them (between lines): names are bounded by MAX_NAMES. */
  private forget(): void {
    this.names.clear();
    this.keyEntries.fill(undefined);
  }

  /**
   * Rewrites the line src[start, end) into `out` (appended). Returns whether the top level was an object; throws
   * LineSyntaxError when the line is not JSON or nested deeper than MAX_RECORD_DEPTH (`out` then holds a partial
   * line: the caller resets it).
   */
  rewrite(
    src: Buffer,
    start: number,
    end: number,
    out: ByteSink,
    hooks: FieldHooks,
    values?: ValueSink,
  ): TopLevel {
    const { containers, keySets } = this;
    if (this.names.size >= MAX_NAMES) this.forget();
    const from = hasByteOrderMark(src, start, end) ? start + 3 : start;
    const s = this.scanner.begin(src, from, end, out);
    const topLevel: TopLevel = s.peek() === OPEN_OBJECT ? 'object' : 'other';
    values?.begin();
    let depth = 0;
    let watched = -1;
    // The state machine: `afterValue` false means a value is expected at pos.
    let afterValue = false;
    // For `values`: the name of the top-level field being read, and the nested value being read (its container's
    // depth, 0 when none), with its names and start in the output.
    let top = '';
    let nestedDepth = 0;
    let nestedTop = '';
    let nestedSub: string | undefined;
    let nestedStart = 0;
    for (;;) {
      if (!afterValue) {
        const c = s.peek();
        const field = watched;
        watched = -1;
        // A column-level value: a top-level field's (sub undefined), or a field's of a top-level object.
        let column = false;
        let sub: string | undefined;
        if (values !== undefined && containers[1] === OBJECT) {
          if (depth === 1) {
            top = s.name;
            column = true;
          } else if (depth === 2 && containers[2] === OBJECT) {
            sub = s.name;
            column = true;
          }
        }
        const valueStart = column ? s.outAt() : 0;
        if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
          if (field >= 0) hooks.seen(field, c === OPEN_OBJECT ? SEEN_OBJECT : SEEN_ARRAY);
          if (depth >= MAX_RECORD_DEPTH)
            throw new LineSyntaxError(`nested deeper than ${MAX_RECORD_DEPTH} levels`, 'depth');
          depth += 1;
          containers[depth] = c === OPEN_OBJECT ? OBJECT : ARRAY;
          s.pos += 1;
          // A top-level field's object is flattened into columns; any other container is one nested value.
          if (column && (sub !== undefined || c === OPEN_ARRAY)) {
            nestedDepth = depth;
            nestedTop = top;
            nestedSub = sub;
            nestedStart = valueStart;
          }
          if (c === OPEN_OBJECT) (keySets[depth] ?? (keySets[depth] = new KeySet(this.names, depth))).reset();
          if (s.peek() === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
            s.pos += 1;
            if (depth === nestedDepth) {
              values?.add(nestedTop, nestedSub, nestedStart, s.outAt(), false);
              nestedDepth = 0;
            }
            depth -= 1;
            afterValue = true;
          } else if (c === OPEN_OBJECT) {
            watched = member(s, depth, hooks);
          }
          continue;
        }
        if (c === QUOTE) {
          if (field >= 0) s.watchedString(field, hooks);
          else s.stringValue();
        } else if (c === MINUS || isDigit(c)) {
          watchedNumber(s, field, hooks);
        } else {
          s.literal();
          if (field >= 0) hooks.seen(field, SEEN_LITERAL);
        }
        if (column) values?.add(top, sub, valueStart, s.outAt(), c === QUOTE && !s.clean);
        afterValue = true;
      }
      if (depth === 0) break;
      const c = s.peek();
      const object = containers[depth] === OBJECT;
      if (c === COMMA) {
        s.pos += 1;
        afterValue = false;
        if (object) watched = member(s, depth, hooks);
      } else if (c === (object ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        s.pos += 1;
        if (depth === nestedDepth) {
          values?.add(nestedTop, nestedSub, nestedStart, s.outAt(), false);
          nestedDepth = 0;
        }
        depth -= 1;
      } else {
        s.fail(object ? 'a "," or "}" expected' : 'a "," or "]" expected');
      }
    }
    s.finish();
    return topLevel;
  }
}

/** Reads `"key":` of an object member; returns the watched field's index for a top-level key, else -1. */
function member(s: Scanner, depth: number, hooks: FieldHooks): number {
  s.skipWhiteSpace();
  const entry = s.key(depth);
  s.expect(COLON, 'a ":" expected after the key');
  if (depth !== 1) return -1;
  if (entry.watchedBy !== hooks) {
    entry.watched = hooks.watch(entry.raw);
    entry.watchedBy = hooks;
  }
  return entry.watched;
}

/** A number, copied as written unless it is a watched field whose hook replaces it. */
function watchedNumber(s: Scanner, field: number, hooks: FieldHooks): void {
  const start = s.pos;
  s.numberEnd();
  if (field < 0) return;
  const replacement = hooks.seen(field, s.seenNumber.of(start, s.pos));
  if (replacement !== undefined) s.replace(start, s.pos, replacement);
}

const SEEN_OBJECT: FieldValue = Object.freeze({ type: 'object' });
const SEEN_ARRAY: FieldValue = Object.freeze({ type: 'array' });
const SEEN_LITERAL: FieldValue = Object.freeze({ type: 'literal' });

/** Integers of up to this many digits are below 2^53: exact as doubles. */
const MAX_SAFE_DIGITS = 15;

/** A watched number as its hook sees it: one per Scanner, set to each watched number in turn. */
class SeenNumber implements NumberValue {
  readonly type = 'number';
  integer = -1;
  digits = 0;
  private start = 0;
  private end = 0;

  constructor(private readonly scanner: Scanner) {}

  /** The number src[start, end) of the scanner's line. */
  of(start: number, end: number): this {
    this.start = start;
    this.end = end;
    const digits = end - start;
    let integer = digits <= MAX_SAFE_DIGITS ? 0 : -1;
    for (let i = start; integer >= 0 && i < end; i += 1) {
      const c = this.scanner.at(i);
      integer = isDigit(c) ? integer * 10 + (c - ZERO) : -1;
    }
    this.integer = integer;
    this.digits = integer >= 0 ? digits : 0;
    return this;
  }

  literal(): string {
    return this.scanner.latin1(this.start, this.end);
  }
}

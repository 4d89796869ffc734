import { integrityError } from '../errors';
import type { Column, ColumnType } from './column-types';
import type { ColumnPlaces } from './row-shape';
import type { RecordBytes } from './record-bytes';
import { VALUE } from './record-bytes';

/**
 * One row group's cells, column by column, in typed arrays and byte arenas that the next row group reuses: the
 * Parquet writer's input (parquet-pages.ts). They replaced an array of JavaScript values per column (a string per
 * text cell, a BigInt per integer), which hyparquet-writer then encoded to UTF-8 again, a TextEncoder per cell: about
 * 1 GB of heap garbage per 64 MiB chunk (docs/PERFORMANCE.md, "Parquet pages from typed columns").
 *
 * A column holds its non-null values in order (value `k`), and per row whether it has one (`defs`). Each kind of
 * column answers what the writer asks of its values: their plain encoding, a hash and an equality for the dictionary,
 * the size hyparquet-writer estimates for them (its dictionary and page rules are kept exactly, so the files are the
 * ones it writes: parquet-pages.test.ts), and their minimum and maximum.
 */

/** What `ColumnValues.extremes` finds: the minimum and maximum values' indexes (-1 without a value). */
export interface Extremes {
  min: number;
  max: number;
}

/** The writer's sink for plain values: hyparquet-writer's ByteWriter (only the methods used). */
export interface PlainSink {
  appendUint8(value: number): void;
  appendUint32(value: number): void;
  appendInt32(value: number): void;
  appendFloat64(value: number): void;
  appendBytes(value: Uint8Array): void;
}

const INITIAL_ROWS = 1024;

function grownInt32(from: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const into = new Int32Array(Math.max(size, from.length * 2));
  into.set(from);
  return into;
}

function grownUint8(from: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const into = new Uint8Array(Math.max(size, from.length * 2));
  into.set(from);
  return into;
}

export abstract class ColumnValues {
  /** Rows added since the last reset. */
  rows = 0;
  /** Non-null values among them. */
  count = 0;
  /** Per row: 1 with a value, 0 for null (the definition levels of an OPTIONAL column). */
  defs = new Uint8Array(INITIAL_ROWS);
  abstract readonly physical: 'BYTE_ARRAY' | 'INT64' | 'DOUBLE' | 'BOOLEAN';

  constructor(
    readonly name: string,
    readonly nullable: boolean,
  ) {}

  reset(): void {
    this.rows = 0;
    this.count = 0;
  }

  addNull(): void {
    if (!this.nullable)
      throw sourceChanged(`${this.name} has no value in a record, which its schema requires`);
    this.row(0);
  }

  /** Adds the reader's value `n` (not null) as the column's type holds it. */
  abstract add(reader: RecordBytes, n: number): void;

  /**
   * hyparquet-writer's estimate of a value's size in its dictionary rule: 8 bytes for INT64 and DOUBLE, an eighth for
   * a boolean (a text: its UTF-16 code units).
   */
  size(_k: number): number {
    return this.physical === 'BOOLEAN' ? 0.125 : 8;
  }

  /** Its estimate of a plain value's size in its page rule (the same, but a text's UTF-8 bytes). */
  plainSize(k: number): number {
    return this.size(k);
  }

  abstract hash(k: number): number;
  abstract same(k: number, j: number): boolean;
  /** Value `k` in PLAIN encoding. */
  protected abstract writeValue(sink: PlainSink, k: number): void;
  /** Values `k` and `j` in the order Parquet's statistics use for the type (negative when `k` comes first). */
  protected abstract compare(k: number, j: number): number;

  /** Values [from, to) in PLAIN encoding. */
  writePlain(sink: PlainSink, from: number, to: number): void {
    for (let k = from; k < to; k++) this.writeValue(sink, k);
  }

  /** The dictionary's values (`entries[0..length)` are value indexes) in PLAIN encoding. */
  writeDictionary(sink: PlainSink, entries: Int32Array, length: number): void {
    for (let e = 0; e < length; e++) this.writeValue(sink, entries[e] ?? 0);
  }

  /** Indexes of the minimum and maximum values (the first of equals), -1 without a value. */
  extremes(): Extremes {
    let min = -1;
    let max = -1;
    for (let k = 0; k < this.count; k++) {
      if (!this.ordered(k)) continue;
      if (min < 0 || this.compare(k, min) < 0) min = k;
      if (max < 0 || this.compare(k, max) > 0) max = k;
    }
    return { min, max };
  }

  /** Whether value `k` takes part in the statistics (a NaN does not). */
  protected ordered(_k: number): boolean {
    return true;
  }

  /** A value as a statistic for hyparquet-writer's metadata writer (a copy: the column's buffers are reused). */
  abstract statistic(k: number): bigint | number | boolean | Uint8Array;

  protected row(def: number): void {
    if (this.rows === this.defs.length) this.defs = grownUint8(this.defs, this.rows + 1);
    this.defs[this.rows] = def;
    this.rows += 1;
  }
}

/**
 * MurmurHash3's finaliser: every bit of the input moves the low bits, which pick a slot (a product alone moves only
 * the bits above, so doubles holding integers, whose low halves are all zero, would share their slots).
 */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Text cells (string and json columns): their UTF-8 bytes back to back in an arena. */
export class ByteArrayValues extends ColumnValues {
  readonly physical = 'BYTE_ARRAY';
  private arena = Buffer.allocUnsafeSlow(64 * 1024);
  private used = 0;
  private starts = new Int32Array(INITIAL_ROWS);
  private ends = new Int32Array(INITIAL_ROWS);

  constructor(
    name: string,
    nullable: boolean,
    private readonly json: boolean,
  ) {
    super(name, nullable);
  }

  override reset(): void {
    super.reset();
    this.used = 0;
  }

  add(reader: RecordBytes, n: number): void {
    const { src, starts, ends } = reader;
    const start = starts[n] ?? 0;
    const end = ends[n] ?? 0;
    if (this.json || reader.tags[n] !== VALUE.string) this.addBytes(src, start, end);
    else if (reader.escaped[n] === 1) this.addText(reader.string(n));
    else this.addBytes(src, start + 1, end - 1);
  }

  /** A cell made as text (the overflow column's JSON). */
  addText(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.reserve(bytes);
    this.arena.write(text, this.used, 'utf8');
    this.push(bytes);
  }

  private addBytes(src: Buffer, start: number, end: number): void {
    const length = end - start;
    this.reserve(length);
    const arena = this.arena;
    let at = this.used;
    if (length <= 32) for (let i = start; i < end; i++) arena[at++] = src[i] ?? 0;
    else src.copy(arena, at, start, end);
    this.push(length);
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.arena.length) return;
    const arena = Buffer.allocUnsafeSlow(Math.max(this.arena.length * 2, this.used + bytes));
    this.arena.copy(arena, 0, 0, this.used);
    this.arena = arena;
  }

  private push(length: number): void {
    const k = this.count;
    if (k === this.starts.length) {
      this.starts = grownInt32(this.starts, k + 1);
      this.ends = grownInt32(this.ends, k + 1);
    }
    this.starts[k] = this.used;
    this.used += length;
    this.ends[k] = this.used;
    this.count = k + 1;
    this.row(1);
  }

  /** As hyparquet-writer measures a string: its length in UTF-16 code units. */
  override size(k: number): number {
    const arena = this.arena;
    let units = 0;
    for (let i = this.starts[k] ?? 0, end = this.ends[k] ?? 0; i < end; i++) {
      const b = arena[i] ?? 0;
      // Every byte but a continuation byte starts a code point; one of four bytes is two code units.
      if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
    }
    return units;
  }

  override plainSize(k: number): number {
    return (this.ends[k] ?? 0) - (this.starts[k] ?? 0);
  }

  hash(k: number): number {
    const arena = this.arena;
    let hash = FNV_OFFSET;
    for (let i = this.starts[k] ?? 0, end = this.ends[k] ?? 0; i < end; i++)
      hash = Math.imul(hash ^ (arena[i] ?? 0), FNV_PRIME);
    return mix(hash);
  }

  same(k: number, j: number): boolean {
    return this.compare(k, j) === 0;
  }

  /** UTF-8 byte order, which is code point order: the order Parquet's statistics use for strings. */
  protected compare(k: number, j: number): number {
    const arena = this.arena;
    const a = this.starts[k] ?? 0;
    const aLength = (this.ends[k] ?? 0) - a;
    const b = this.starts[j] ?? 0;
    const bLength = (this.ends[j] ?? 0) - b;
    const length = Math.min(aLength, bLength);
    for (let i = 0; i < length; i++) {
      const d = (arena[a + i] ?? 0) - (arena[b + i] ?? 0);
      if (d !== 0) return d;
    }
    return aLength - bLength;
  }

  protected writeValue(sink: PlainSink, k: number): void {
    const start = this.starts[k] ?? 0;
    const end = this.ends[k] ?? 0;
    sink.appendUint32(end - start);
    sink.appendBytes(this.arena.subarray(start, end));
  }

  statistic(k: number): Uint8Array {
    return Uint8Array.prototype.slice.call(this.arena, this.starts[k] ?? 0, this.ends[k] ?? 0);
  }
}

const MINUS = 0x2d;
const ZERO = 0x30;
const TWO_TO_32 = 4294967296;

/** INT64 cells (int64 and timestamp columns) as their two 32-bit halves. */
export class Int64Values extends ColumnValues {
  readonly physical = 'INT64';
  private lows = new Int32Array(INITIAL_ROWS);
  private highs = new Int32Array(INITIAL_ROWS);

  constructor(
    name: string,
    nullable: boolean,
    private readonly timestamp: boolean,
  ) {
    super(name, nullable);
  }

  add(reader: RecordBytes, n: number): void {
    if (this.timestamp) {
      const millis = Date.parse(reader.string(n));
      if (Number.isNaN(millis)) throw sourceChanged(`${this.name} holds a value that is not a date-time`);
      this.addSafe(millis);
      return;
    }
    const { src } = reader;
    const start = reader.starts[n] ?? 0;
    const end = reader.ends[n] ?? 0;
    const negative = src[start] === MINUS;
    const from = negative ? start + 1 : start;
    if (end - from <= 15) {
      // Up to 15 digits: exact as a double.
      let value = 0;
      for (let i = from; i < end; i++) {
        const d = (src[i] ?? 0) - ZERO;
        if (d < 0 || d > 9) return this.addBig(BigInt(reader.text(n)));
        value = value * 10 + d;
      }
      this.addSafe(negative ? -value : value);
    } else this.addBig(BigInt(reader.text(n)));
  }

  private addSafe(value: number): void {
    this.push(value >>> 0, Math.floor(value / TWO_TO_32));
  }

  private addBig(value: bigint): void {
    if (value < -(2n ** 63n) || value > 2n ** 63n - 1n)
      throw new RangeError(`parquet INT64 value out of range: ${value}`);
    this.push(Number(BigInt.asUintN(32, value)), Number(BigInt.asIntN(32, value >> 32n)));
  }

  private push(low: number, high: number): void {
    const k = this.count;
    if (k === this.lows.length) {
      this.lows = grownInt32(this.lows, k + 1);
      this.highs = grownInt32(this.highs, k + 1);
    }
    this.lows[k] = low | 0;
    this.highs[k] = high | 0;
    this.count = k + 1;
    this.row(1);
  }

  hash(k: number): number {
    return mix(mix(this.highs[k] ?? 0) ^ (this.lows[k] ?? 0));
  }

  same(k: number, j: number): boolean {
    return this.lows[k] === this.lows[j] && this.highs[k] === this.highs[j];
  }

  protected compare(k: number, j: number): number {
    const high = (this.highs[k] ?? 0) - (this.highs[j] ?? 0);
    if (high !== 0) return high;
    return ((this.lows[k] ?? 0) >>> 0) - ((this.lows[j] ?? 0) >>> 0);
  }

  protected writeValue(sink: PlainSink, k: number): void {
    sink.appendInt32(this.lows[k] ?? 0);
    sink.appendInt32(this.highs[k] ?? 0);
  }

  statistic(k: number): bigint {
    return (BigInt(this.highs[k] ?? 0) << 32n) | BigInt((this.lows[k] ?? 0) >>> 0);
  }
}

/** DOUBLE cells. */
export class DoubleValues extends ColumnValues {
  readonly physical = 'DOUBLE';
  private values = new Float64Array(INITIAL_ROWS);
  private readonly bits = new Float64Array(1);
  private readonly halves = new Int32Array(this.bits.buffer);

  add(reader: RecordBytes, n: number): void {
    const k = this.count;
    if (k === this.values.length) {
      const values = new Float64Array(k * 2);
      values.set(this.values);
      this.values = values;
    }
    this.values[k] = Number(reader.text(n));
    this.count = k + 1;
    this.row(1);
  }

  hash(k: number): number {
    // 0 and -0 are one dictionary entry, as JavaScript's Map takes them.
    this.bits[0] = (this.values[k] ?? 0) + 0;
    return mix(mix(this.halves[1] ?? 0) ^ (this.halves[0] ?? 0));
  }

  same(k: number, j: number): boolean {
    return this.values[k] === this.values[j];
  }

  protected writeValue(sink: PlainSink, k: number): void {
    sink.appendFloat64(this.values[k] ?? 0);
  }

  protected compare(k: number, j: number): number {
    const a = this.values[k] ?? 0;
    const b = this.values[j] ?? 0;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  protected override ordered(k: number): boolean {
    return !Number.isNaN(this.values[k]);
  }

  statistic(k: number): number {
    return this.values[k] ?? 0;
  }

  /** NaN values (never from JSON, whose numbers are finite; counted as Parquet's statistics ask). */
  nans(): number {
    let nans = 0;
    for (let k = 0; k < this.count; k++) if (Number.isNaN(this.values[k])) nans += 1;
    return nans;
  }
}

/** BOOLEAN cells, one byte each. */
export class BooleanValues extends ColumnValues {
  readonly physical = 'BOOLEAN';
  values = new Uint8Array(INITIAL_ROWS);

  add(reader: RecordBytes, n: number): void {
    const k = this.count;
    if (k === this.values.length) this.values = grownUint8(this.values, k + 1);
    this.values[k] = reader.tags[n] === VALUE.true ? 1 : 0;
    this.count = k + 1;
    this.row(1);
  }

  hash(k: number): number {
    return this.values[k] ?? 0;
  }

  same(k: number, j: number): boolean {
    return this.values[k] === this.values[j];
  }

  /** Booleans are bit-packed: PLAIN writes them eight to a byte, not one by one. */
  protected writeValue(): void {
    throw new Error('parquet: BOOLEAN values are written eight to a byte');
  }

  protected compare(k: number, j: number): number {
    return (this.values[k] ?? 0) - (this.values[j] ?? 0);
  }

  override writePlain(sink: PlainSink, from: number, to: number): void {
    let byte = 0;
    for (let k = from; k < to; k++) {
      const bit = (k - from) % 8;
      if (this.values[k] === 1) byte |= 1 << bit;
      if (bit === 7) {
        sink.appendUint8(byte);
        byte = 0;
      }
    }
    if ((to - from) % 8) sink.appendUint8(byte);
  }

  statistic(k: number): boolean {
    return this.values[k] === 1;
  }
}

export function columnValues(column: Column): ColumnValues {
  const { name, nullable } = column;
  const kinds: Record<ColumnType, () => ColumnValues> = {
    string: () => new ByteArrayValues(name, nullable, false),
    json: () => new ByteArrayValues(name, nullable, true),
    int64: () => new Int64Values(name, nullable, false),
    timestamp: () => new Int64Values(name, nullable, true),
    double: () => new DoubleValues(name, nullable),
    boolean: () => new BooleanValues(name, nullable),
  };
  return kinds[column.type]();
}

/**
 * A row group's columns, filled record by record from the run's column places (row-shape.ts): the overflow column
 * takes the record's values without a column, as JSON text.
 */
export class RowGroupColumns {
  readonly values: ColumnValues[];
  private readonly overflow: ByteArrayValues | undefined;

  constructor(
    readonly columns: readonly Column[],
    private readonly places: ColumnPlaces,
  ) {
    this.values = columns.map(columnValues);
    const overflow = this.values[places.overflowAt];
    this.overflow = overflow instanceof ByteArrayValues ? overflow : undefined;
  }

  reset(): void {
    for (const column of this.values) column.reset();
  }

  /** Adds the record src[start, end) as the next row. */
  add(src: Buffer, start: number, end: number): void {
    const { places, values } = this;
    places.place(src, start, end);
    const { reader, at, overflowAt } = places;
    const { tags } = reader;
    for (let c = 0; c < values.length; c++) {
      const column = values[c];
      if (c === overflowAt) {
        if (places.overflow === null) column.addNull();
        else this.overflow?.addText(places.overflow);
        continue;
      }
      const n = at[c] ?? -1;
      if (n < 0 || tags[n] === VALUE.null) column.addNull();
      else column.add(reader, n);
    }
  }
}

const sourceChanged = (detail: string) =>
  integrityError('sourceChanged', `the source changed after the run's schema was decided: ${detail}`);

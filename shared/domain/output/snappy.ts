/**
 * Snappy compression of Parquet pages: hyparquet-writer's compressor (snappyjs, MIT, Copyright (c) 2016 Zhipeng Jia),
 * step for step, so its output is the same byte for byte (snappy.test.ts holds it to hyparquet-writer's), but written
 * straight into a buffer this compressor keeps from page to page. hyparquet-writer's appends each byte through a
 * growing ByteWriter (a bounds check and a DataView call per byte, a copy at each doubling, a new writer per page):
 * about half of its cost (docs/PERFORMANCE.md, "Parquet pages from typed columns").
 */

const MAX_HASH_TABLE_BITS = 14;
const MAX_OFFSET = 0xffff;
const INPUT_MARGIN = 15;

const hashOf = (key: number, shift: number): number => Math.imul(key, 0x1e35a7bd) >>> shift;

// Bytes past the end read as undefined, which the arithmetic turns into 0 (NaN in Math.imul), as snappyjs does.
const load32 = (a: Uint8Array, i: number): number =>
  a[i] + (a[i + 1] << 8) + (a[i + 2] << 16) + (a[i + 3] << 24);

const equals32 = (a: Uint8Array, i: number, j: number): boolean =>
  a[i] === a[j] && a[i + 1] === a[j + 1] && a[i + 2] === a[j + 2] && a[i + 3] === a[j + 3];

export class SnappyCompressor {
  private out = Buffer.allocUnsafeSlow(64 * 1024);
  private op = 0;
  private readonly tables: (Uint32Array | undefined)[] = [];

  /** `input` compressed: a view of this compressor's buffer, valid until the next call. */
  compress(input: Uint8Array): Uint8Array {
    const size = input.length;
    // Snappy's bound (32 + n + n / 6) and the length's varint.
    const bound = 32 + size + Math.ceil(size / 6) + 5;
    if (this.out.length < bound) this.out = Buffer.allocUnsafeSlow(Math.max(bound, this.out.length * 2));
    this.op = 0;
    let length = size;
    while ((length & ~0x7f) !== 0) {
      this.out[this.op++] = (length & 0x7f) | 0x80;
      length >>>= 7;
    }
    this.out[this.op++] = length;
    this.compressInput(input);
    return this.out.subarray(0, this.op);
  }

  private compressInput(input: Uint8Array): void {
    const inputSize = input.length;
    let bits = 1;
    while (1 << bits <= inputSize && bits <= MAX_HASH_TABLE_BITS) bits++;
    bits--;
    const shift = 32 - bits;
    const table = (this.tables[bits] ??= new Uint32Array(1 << bits));
    table.fill(0);

    let ip = 0;
    let nextEmit = 0;
    if (inputSize >= INPUT_MARGIN) {
      const ipLimit = inputSize - INPUT_MARGIN;
      ip++;
      let nextHash = hashOf(load32(input, ip), shift);
      for (;;) {
        let skip = 32;
        let nextIp = ip;
        let candidate = 0;
        let ended = false;
        do {
          ip = nextIp;
          const hash = nextHash;
          const step = skip >>> 5;
          skip++;
          nextIp = ip + step;
          if (ip > ipLimit) {
            ended = true;
            break;
          }
          nextHash = hashOf(load32(input, nextIp), shift);
          candidate = table[hash];
          table[hash] = ip;
        } while (ip - candidate > MAX_OFFSET || !equals32(input, ip, candidate));
        if (ended) break;

        this.literal(input, nextEmit, ip - nextEmit);
        do {
          const base = ip;
          let matched = 4;
          while (ip + matched < inputSize && input[ip + matched] === input[candidate + matched]) matched++;
          ip += matched;
          this.copy(base - candidate, matched);
          nextEmit = ip;
          if (ip >= ipLimit) {
            ended = true;
            break;
          }
          table[hashOf(load32(input, ip - 1), shift)] = ip - 1;
          const current = hashOf(load32(input, ip), shift);
          candidate = table[current];
          table[current] = ip;
        } while (ip - candidate <= MAX_OFFSET && equals32(input, ip, candidate));
        if (ended) break;
        ip++;
        nextHash = hashOf(load32(input, ip), shift);
      }
    }
    if (nextEmit < inputSize) this.literal(input, nextEmit, inputSize - nextEmit);
  }

  private literal(input: Uint8Array, from: number, length: number): void {
    const out = this.out;
    let op = this.op;
    if (length <= 60) out[op++] = (length - 1) << 2;
    else {
      const value = length - 1;
      const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
      out[op++] = (59 + bytes) << 2;
      for (let i = 0; i < bytes; i++) out[op++] = value >>> (i * 8);
    }
    if (length <= 32) for (let i = from, end = from + length; i < end; i++) out[op++] = input[i];
    else {
      out.set(input.subarray(from, from + length), op);
      op += length;
    }
    this.op = op;
  }

  private copy(offset: number, length: number): void {
    while (length >= 68) {
      this.shortCopy(offset, 64);
      length -= 64;
    }
    if (length > 64) {
      this.shortCopy(offset, 60);
      length -= 60;
    }
    this.shortCopy(offset, length);
  }

  private shortCopy(offset: number, length: number): void {
    const out = this.out;
    if (length < 12 && offset < 2048) {
      out[this.op++] = 1 + ((length - 4) << 2) + ((offset >>> 8) << 5);
      out[this.op++] = offset & 0xff;
    } else {
      out[this.op++] = 2 + ((length - 1) << 2);
      out[this.op++] = offset & 0xff;
      out[this.op++] = offset >>> 8;
    }
  }
}

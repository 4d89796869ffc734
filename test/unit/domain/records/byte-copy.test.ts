import fc from 'fast-check';
import { copyBytes, SHORT_COPY, viewOf } from '../../../../shared/domain/records/byte-copy';

/** A buffer of `length` bytes inside a larger ArrayBuffer (as Node's pool and subarrays give), so byteOffset > 0. */
function inside(length: number, offset: number, fill: (i: number) => number): Buffer {
  const whole = Buffer.alloc(offset + length + 7, 0xee);
  const bytes = whole.subarray(offset, offset + length);
  for (let i = 0; i < length; i += 1) bytes[i] = fill(i);
  return bytes;
}

describe('copyBytes', () => {
  it('copies what Buffer#copy copies, at any offsets and lengths, and nothing else', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * SHORT_COPY }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.nat(),
        fc.nat(),
        (count, sourceOffset, targetOffset, startSeed, atSeed) => {
          const source = inside(count + 40, sourceOffset, (i) => (i * 131 + 7) & 0xff);
          const start = startSeed % 41;
          const expected = inside(count + 40, targetOffset, () => 0x55);
          const at = atSeed % (expected.length - count + 1);
          const target = Buffer.from(expected);
          const targetHere = inside(target.length, targetOffset, (i) => target[i] ?? 0);
          source.copy(expected, at, start, start + count);
          const copied = copyBytes(
            source,
            viewOf(source),
            start,
            start + count,
            targetHere,
            viewOf(targetHere),
            at,
          );
          expect(copied).toBe(count);
          expect(targetHere.equals(expected)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses a range beyond the target rather than writing past it', () => {
    const source = Buffer.alloc(100, 1);
    const target = Buffer.alloc(10);
    expect(() => copyBytes(source, viewOf(source), 0, 20, target, viewOf(target), 0)).toThrow(RangeError);
  });
});

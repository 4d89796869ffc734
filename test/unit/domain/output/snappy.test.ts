import fc from 'fast-check';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { SnappyCompressor } from '../../../../shared/domain/output/snappy';

/** Differential: the page compressor writes what hyparquet-writer's (snappyjs) writes, byte for byte. */
describe('SnappyCompressor', () => {
  /** Bytes with repeats near and far (copies of every length and offset), and runs of fresh bytes (literals). */
  const pieces = fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 200 }))
        .map(([unit, times]) =>
          Uint8Array.from({ length: unit.length * times }, (_, i) => unit[i % unit.length] ?? 0),
        ),
      fc.constantFrom(Buffer.from('{"name":"App Launched","time":"2026-01-05T10:00:00.000Z"}')),
    ),
    { maxLength: 40 },
  );

  it('writes the same bytes as hyparquet-writer for any input, one compressor for many inputs', () => {
    const compressor = new SnappyCompressor();
    fc.assert(
      fc.property(pieces, (parts) => {
        const input = Buffer.concat(parts);
        const ours = Buffer.from(compressor.compress(input));
        expect(ours.equals(Buffer.from(snappyCompress(input)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('matches past the 64 KiB offset bound, at the input margin and with literals of every length header', () => {
    const compressor = new SnappyCompressor();
    let state = 7;
    const random = (length: number): Uint8Array =>
      Uint8Array.from({ length }, () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24);
    const block = random(70_000);
    // A repeat at exactly the largest offset: its first bytes are hashed at position 1, the run between them makes
    // few entries, so the second finds the first 65,535 bytes back.
    const pattern = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const farthest = Buffer.concat([
      Buffer.from('x'),
      pattern,
      Buffer.alloc(65_527, 'a'),
      pattern,
      Buffer.alloc(40, 'b'),
    ]);
    const inputs = [
      new Uint8Array(0),
      random(14),
      random(15),
      random(16),
      Buffer.concat([block, block.subarray(0, 5000)]),
      farthest,
      random(300_000),
      Buffer.alloc(200_000, 0x61),
    ];
    for (const input of inputs)
      expect(Buffer.from(compressor.compress(input)).equals(Buffer.from(snappyCompress(input)))).toBe(true);
  });
});

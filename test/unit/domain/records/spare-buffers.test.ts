import { SpareBuffers } from '../../../../shared/domain/records/spare-buffers';

describe('SpareBuffers', () => {
  it('gives views of the bytes asked for, made with room, and lends a given-back buffer to a use it fits', () => {
    const spares = new SpareBuffers({ keep: 1, smallest: 100, largest: 1000 });
    const small = spares.take(10);
    expect(small.length).toBe(10);
    expect(small.buffer.byteLength).toBe(100);
    const large = spares.take(400);
    expect(large.buffer.byteLength).toBe(500);
    spares.give(large);
    // Too large for the spare: a new buffer.
    expect(spares.take(600).buffer === large.buffer).toBe(false);
    const again = spares.take(450);
    expect(again.length).toBe(450);
    expect(again.buffer === large.buffer).toBe(true);
    // Taken, it is no longer spare.
    expect(spares.take(450).buffer === large.buffer).toBe(false);
  });

  it('keeps at most `keep` buffers, none larger than `largest`, and none detached', () => {
    const spares = new SpareBuffers({ keep: 1, smallest: 0, largest: 1000 });
    const a = spares.take(100);
    const b = spares.take(100);
    spares.give(a);
    spares.give(b);
    expect(spares.take(100).buffer === a.buffer).toBe(true);
    expect(spares.take(100).buffer === b.buffer).toBe(false);

    const huge = spares.take(2000);
    spares.give(huge);
    expect(spares.take(100).buffer === huge.buffer).toBe(false);

    const moved = spares.take(100);
    const whole = moved.buffer as ArrayBuffer;
    structuredClone(whole, { transfer: [whole] });
    spares.give(moved);
    expect(spares.take(10).buffer.byteLength).toBeGreaterThan(0);
  });
});

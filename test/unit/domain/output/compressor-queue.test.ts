import { BATCH_BYTES, CompressorQueue } from '../../../../shared/domain/output/compressor-queue';

/** The queue's own rules; part-sink.test.ts shows parts using it against real zlib streams. */
describe('CompressorQueue', () => {
  it('has room below its bound, and gives it when batches leave, to every part waiting', async () => {
    const queue = new CompressorQueue(2);
    queue.sent();
    expect(queue.room()).toBeUndefined();
    queue.sent();
    const woken: string[] = [];
    const first = queue.room()?.then(() => woken.push('first'));
    const second = queue.room()?.then(() => woken.push('second'));
    expect(first).toBeDefined();
    await Promise.resolve();
    expect(woken).toEqual([]);
    queue.left(1);
    await Promise.all([first, second]);
    expect(woken).toEqual(['first', 'second']);
    expect(queue.size).toBe(1);
  });

  it('gives back several batches at once (a part that stopped) and keeps no batch that was not consumed', () => {
    const queue = new CompressorQueue(3);
    const batches = [queue.batch(), queue.batch(), queue.batch()];
    for (let i = 0; i < 3; i += 1) queue.sent();
    queue.left(3);
    expect(queue.size).toBe(0);
    expect(queue.room()).toBeUndefined();
    // None was handed back as consumed: the next batch is new.
    expect(batches).not.toContain(queue.batch());
  });

  it('reuses a consumed batch whole, even when it was sent part-filled (a part closing), up to its bound', () => {
    const queue = new CompressorQueue(1);
    const batch = queue.batch();
    expect(batch).toHaveLength(BATCH_BYTES);
    queue.sent();
    queue.left(1, batch.subarray(0, 100));
    const again = queue.batch();
    expect(again.buffer).toBe(batch.buffer);
    expect(again).toHaveLength(BATCH_BYTES);
    // One spare at most (the bound): a second consumed batch is not kept.
    const other = queue.batch();
    queue.sent();
    queue.sent();
    queue.left(1, again);
    queue.left(1, other);
    expect(queue.batch().buffer).toBe(again.buffer);
    expect(queue.batch().buffer).not.toBe(other.buffer);
  });
});

import type { World } from '../../../support/lifecycle-world';
import { at, BUCKET_1, BUCKET_2, createWorld, D2 } from '../../../support/lifecycle-world';

/** Issue 16, problem 1: work follows the export when the platform moves it to another destination. */
describe('moving an export to another destination', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('re-plans the run blocked on the old bucket to the new one, and never stops a customer who moved', async () => {
    w = await createWorld('moved');
    w.destination.buckets.set(BUCKET_1, 'keyRevoked');
    await w.publish('req-1');
    expect(await w.run('req-1')).toMatchObject({ status: 'blocked' });
    for (let hour = 0; hour < 10; hour += 1) await w.checkAt(hour);

    // From hour 10 the platform sends the export's requests to a bucket that works.
    w.h.clock.set(at(10));
    await w.publish('req-10', D2);
    for (let hour = 10; hour <= 90; hour += 1) await w.checkAt(hour);

    // Notice 1, then the recovery notice: the export works again, on its new destination.
    expect(await w.outbox()).toEqual([
      [1, 0],
      ['R', 10],
    ]);
    expect(await w.exportDoc()).toMatchObject({
      status: 'active',
      destinationId: D2,
      health: { state: 'healthy' },
    });
    const moved = await w.run('req-1');
    expect(moved).toMatchObject({ status: 'succeeded', destinationId: D2 });
    const names = new Set<string>();
    for await (const o of w.runtime.buckets.list(BUCKET_2, '')) names.add(o.name);
    for (const request of ['req-1', 'req-10']) {
      const run = await w.run(request);
      expect(run?.status).toBe('succeeded');
      expect([...names].some((n) => n.endsWith(`/${run?.runId}/_SUCCESS`))).toBe(true);
    }
    expect(w.events('runMoved')).toEqual([
      expect.objectContaining({ runId: moved?.runId, from: 'dest-1', to: D2 }),
    ]);

    // A request at hour 80 goes out like any other.
    w.h.clock.set(at(91));
    await w.publish('req-91', D2);
    expect(await w.run('req-91')).toMatchObject({ status: 'succeeded' });
  });

  it('leaves what the old destination already holds without a manifest or _SUCCESS', async () => {
    w = await createWorld('moved-partial');
    w.destination.buckets.set(BUCKET_1, 'writesRefused');
    await w.publish('req-1');
    w.h.clock.set(at(1));
    await w.publish('req-2', D2);
    const old: string[] = [];
    for await (const o of w.runtime.buckets.list(BUCKET_1, '')) old.push(o.name);
    expect(old.filter((n) => n.endsWith('_SUCCESS') || n.includes('manifest'))).toEqual([]);
    expect(await w.run('req-1')).toMatchObject({ status: 'succeeded', destinationId: D2 });
  });
});

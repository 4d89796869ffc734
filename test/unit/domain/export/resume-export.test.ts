import type { World } from '../../../support/lifecycle-world';
import { at, createWorld, EXPORT } from '../../../support/lifecycle-world';

/** Issue 16, problem 2: resume marks the export recovered only if nothing re-blocked while it worked. */
describe('resuming an export', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  /**
   * The customer resumes while IAM is still propagating: the probe passes, and the worker's first write gets a 403 and
   * blocks the run again while the resume is still working (the chunk tasks it publishes are handled at once).
   */
  async function resumedDuringPropagation(w: World): Promise<void> {
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    await w.checkAt(0);
    w.destination.mode = 'writesRefused';
    const bus = w.runtime.bus;
    const publish = bus.publish.bind(bus);
    bus.publish = async (topic, messages) => {
      const ids = await publish(topic, messages);
      if (topic === w.runtime.ctx.settings.topics.chunks) await bus.drain();
      return ids;
    };
    w.h.clock.set(at(0.5));
    const answer = await w.api('POST', `/exports/${EXPORT}/resume`);
    bus.publish = publish;
    expect(answer).toMatchObject({ status: 200, body: { recovered: false } });
    expect(await w.run('req-1')).toMatchObject({ status: 'blocked' });
    expect(await w.exportDoc()).toMatchObject({ health: { state: 'failing' } });
  }

  it('leaves the export failing when a run blocks again during the resume, and the next check finishes it', async () => {
    w = await createWorld('reblocked');
    await resumedDuringPropagation(w);
    w.destination.mode = 'ok';
    await w.checkAt(1);
    expect(await w.run('req-1')).toMatchObject({ status: 'succeeded' });
    expect(await w.exportDoc()).toMatchObject({ status: 'active', health: { state: 'healthy' } });
    expect(await w.outbox()).toEqual([[1, 0]]);
  });

  it('never leaves a blocked run under a healthy export: 75 checks later it was delivered or escalated', async () => {
    w = await createWorld('reblocked-75');
    await resumedDuringPropagation(w);
    for (let hour = 1; hour <= 75; hour += 1) {
      await w.checkAt(hour);
      const doc = await w.exportDoc();
      if (doc.health.state === 'healthy')
        expect(await w.run('req-1')).not.toMatchObject({ status: 'blocked' });
    }
    // Still refused: the customer was warned twice, never stopped on a probe that passes.
    expect(await w.outbox()).toEqual([
      [1, 0],
      [2, 48],
    ]);
  });

  it('answers what it did: runs handed back, runs moved, requests caught up, and whether it recovered', async () => {
    w = await createWorld('resume-answer');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    w.destination.mode = 'ok';
    const answer = await w.api('POST', `/exports/${EXPORT}/resume`);
    expect(answer).toMatchObject({
      status: 200,
      body: { status: 'active', recovered: true, moved: [], caughtUp: [], runs: [expect.any(String)] },
    });
  });
});

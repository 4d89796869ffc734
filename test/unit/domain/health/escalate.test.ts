import type { World } from '../../../support/lifecycle-world';
import { createWorld, EXPORT } from '../../../support/lifecycle-world';

async function failingForTwoDays(w: World): Promise<void> {
  w.destination.mode = 'keyRevoked';
  await w.publish('req-1');
  for (let hour = 0; hour < 72; hour += 1) await w.checkAt(hour);
  expect(await w.outbox()).toEqual([
    [1, 0],
    [2, 48],
  ]);
}

describe('escalate', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  // Issue 16, problem 3.
  it('loses to a customer resume that lands while notice 3 is being sent: the export stays active', async () => {
    w = await createWorld('notice3-race');
    await failingForTwoDays(w);
    const world = w;
    let resumed: unknown;
    world.mail.during = async (message) => {
      expect(message.noticeId).toMatch(/notice-3$/);
      world.destination.mode = 'ok';
      resumed = await world.api('POST', `/exports/${EXPORT}/resume`);
    };
    await world.checkAt(72);
    expect(resumed).toMatchObject({ status: 200, body: { status: 'active' } });
    await world.runtime.bus.drain();
    const doc = await world.exportDoc();
    expect(doc).toMatchObject({ status: 'active', health: { state: 'healthy' }, stoppedAt: null });
    // The episode is kept through the recovery hold; notice 3 is not recorded, so a relapse warns before any stop.
    expect(doc.noticesSent.map((n) => n.notice)).toEqual([1, 2]);
    expect(await world.run('req-1')).toMatchObject({ status: 'succeeded' });
    expect(world.events('exportStopped')).toEqual([]);
    await world.publish('req-2');
    expect(await world.run('req-2')).toMatchObject({ status: 'succeeded' });
  });

  // Issue 16, problem 9.
  it('keeps the claim when the provider took the mail but its answer was lost: the next check does not send it again', async () => {
    w = await createWorld('mail-lost');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    w.mail.behaviour = 'lose';
    await w.checkAt(0);
    w.mail.behaviour = 'deliver';
    await w.checkAt(1);
    expect(w.mail.attempts).toBe(1);
    expect(await w.outbox()).toEqual([[1, 0]]);
    expect(w.events('mailFailed')).toEqual([expect.objectContaining({ outcome: 'unknown', notice: 1 })]);
  });

  it('releases the claim when the provider refused the mail: the next check sends it', async () => {
    w = await createWorld('mail-refused');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    w.mail.behaviour = { refuse: 503 };
    await w.checkAt(0);
    w.mail.behaviour = 'deliver';
    await w.checkAt(1);
    expect(w.mail.attempts).toBe(2);
    expect(await w.outbox()).toEqual([[1, 1]]);
    expect(w.events('mailFailed')).toEqual([
      expect.objectContaining({ outcome: 'refused', status: 503, notice: 1 }),
    ]);
  });
});

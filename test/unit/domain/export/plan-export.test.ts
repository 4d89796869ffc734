import type { World } from '../../../support/lifecycle-world';
import { at, createWorld, D1, EXPORT } from '../../../support/lifecycle-world';

/** Stops the export the way the policy does: never fixed, notices at 0, 48 and 72 h. */
async function stopped(w: World): Promise<void> {
  w.destination.mode = 'bucketGone';
  await w.publish('req-1');
  for (let hour = 0; hour <= 72; hour += 1) await w.checkAt(hour);
  expect(await w.exportDoc()).toMatchObject({ status: 'stopped' });
}

describe('planning a request', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  // Issue 16, problem 7.
  it('holds requests that arrive while the export is stopped and delivers them after the restart, in request order', async () => {
    w = await createWorld('held');
    await stopped(w);
    for (const [i, id] of ['req-80', 'req-81'].entries()) {
      w.h.clock.set(at(80 + i));
      await w.publish(id);
      expect(await w.run(id)).toMatchObject({ status: 'held' });
    }
    // The same request again is still the one held run, not lost.
    await w.publish('req-80');
    expect(await w.run('req-80')).toMatchObject({ status: 'held' });

    w.destination.mode = 'ok';
    w.h.clock.set(at(90));
    const answer = await w.api('POST', `/exports/${EXPORT}/resume`);
    const held = [(await w.run('req-80'))?.runId, (await w.run('req-81'))?.runId];
    expect(answer).toMatchObject({ status: 200, body: { status: 'active', caughtUp: held } });
    await w.runtime.bus.drain();
    for (const id of ['req-1', 'req-80', 'req-81'])
      expect(await w.run(id)).toMatchObject({ status: 'succeeded' });
    expect(w.events('runsCaughtUp')).toEqual([expect.objectContaining({ runs: held })]);
  });

  it('stores the display name a request carries, keeps it when a later one has none, and renames on a new one', async () => {
    w = await createWorld('display-name');
    const send = (requestId: string, displayName?: string) =>
      w!.h.publishAndDrain(w!.h.request({ requestId, ...(displayName ? { displayName } : {}) }));
    await send('req-1');
    expect((await w.exportDoc()).displayName).toBeUndefined();
    await send('req-2', '  Daily events → warehouse ');
    expect((await w.exportDoc()).displayName).toBe('Daily events → warehouse');
    await send('req-3');
    expect((await w.exportDoc()).displayName).toBe('Daily events → warehouse');
    await send('req-4', 'Events (EU)');
    expect((await w.exportDoc()).displayName).toBe('Events (EU)');
    const listed = await w.api('GET', `/exports/${EXPORT}`);
    expect(listed).toMatchObject({ status: 200, body: { displayName: 'Events (EU)' } });
  });

  it('names the export by its display name in the notices, and by its id without one', async () => {
    w = await createWorld('display-name-notice');
    w.destination.mode = 'bucketGone';
    await w.h.publishAndDrain(w.h.request({ requestId: 'req-1', displayName: 'Daily <events>' }));
    await w.checkAt(0);
    const [mail] = await w.mails();
    expect(mail?.subject).toBe('Action needed: your data export "Daily <events>" is failing');
    expect(mail?.html).toContain('&quot;Daily &lt;events&gt;&quot; (daily-events)');
  });

  // Issue 16, problem 8.
  it('makes the export fail and escalate when its destination was deleted', async () => {
    w = await createWorld('deleted');
    await w.publish('req-1');
    expect(await w.api('DELETE', `/destinations/${D1}`)).toMatchObject({ status: 204 });
    w.h.clock.set(at(1));
    await w.publish('req-2');
    expect(await w.run('req-2')).toMatchObject({
      status: 'blocked',
      failure: { kind: 'destination', code: 'destinationDeleted' },
    });
    expect(await w.exportDoc()).toMatchObject({ status: 'active', health: { state: 'failing' } });
    await w.checkAt(1);
    expect(await w.outbox()).toEqual([[1, 1]]);
  });

  it('refuses a request id used again with other content, and leaves the first run as it was', async () => {
    w = await createWorld('reused');
    await w.publish('req-1');
    const first = await w.run('req-1');
    await w.h.publishAndDrain(
      w.h.request({
        requestId: 'req-1',
        window: { from: '2026-02-02T00:00:00Z', to: '2026-02-03T00:00:00Z' },
      }),
    );
    expect(w.events('messageRejected')).toEqual([
      expect.objectContaining({
        violations: [expect.stringContaining('this request id was already received with different content')],
      }),
    ]);
    expect(await w.run('req-1')).toEqual(first);
  });
});

import type { World } from '../../../support/lifecycle-world';
import { createWorld, D1, EXPORT } from '../../../support/lifecycle-world';

describe('restarting an export', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  // Issue 16, problem 8: "Fixing the problem will restart the export".
  it('restarts a stopped export when a validate of its destination passes, and delivers what waited', async () => {
    w = await createWorld('validate-restarts');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    for (let hour = 0; hour <= 72; hour += 1) await w.checkAt(hour);
    expect(await w.exportDoc()).toMatchObject({ status: 'stopped' });
    await w.publish('req-73');

    expect(await w.api('POST', `/destinations/${D1}/validate`)).toMatchObject({
      status: 422,
      body: { error: { code: 'credentialsInvalid' } },
    });
    expect(await w.exportDoc()).toMatchObject({ status: 'stopped' });

    w.destination.mode = 'ok';
    const held = (await w.run('req-73'))?.runId;
    expect(await w.api('POST', `/destinations/${D1}/validate`)).toMatchObject({
      status: 200,
      body: {
        valid: true,
        restarted: [{ exportId: EXPORT, status: 'active', recovered: true, moved: [], caughtUp: [held] }],
      },
    });
    await w.runtime.bus.drain();
    expect(await w.exportDoc()).toMatchObject({ status: 'active', health: { state: 'healthy' } });
    expect(await w.run('req-1')).toMatchObject({ status: 'succeeded' });
    expect(await w.run('req-73')).toMatchObject({ status: 'succeeded' });
  });

  it('restarts nothing when the destination passes but no export of it is failing', async () => {
    w = await createWorld('validate-healthy');
    await w.publish('req-1');
    expect(await w.api('POST', `/destinations/${D1}/validate`)).toMatchObject({
      status: 200,
      body: { valid: true, restarted: [] },
    });
  });
});

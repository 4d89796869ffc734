import { checkFailingExports } from '../../../../shared/domain/health/check-failing-exports';
import type { World } from '../../../support/lifecycle-world';
import { at, createWorld } from '../../../support/lifecycle-world';

/** A failing export's document that no longer parses (a field of the wrong type), with content that must not be logged. */
const UNREADABLE = {
  accountId: 42,
  exportId: 'SECRET-CONTENT',
  status: 'active',
  health: { state: 'failing' },
};

describe('checkFailingExports', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  // Issue 16, problem 4.
  it('in a relapse episode, a fix just before the deadline gives no notice 3 and no stop', async () => {
    w = await createWorld('relapse-fix');
    w.destination.mode = 'bucketGone';
    await w.publish('req-1');
    for (let hour = 0; hour <= 71; hour += 1) {
      if (hour === 30) w.destination.mode = 'ok';
      if (hour === 40) {
        w.destination.mode = 'keyRevoked';
        w.h.clock.set(at(40));
        await w.publish('req-40');
      }
      await w.checkAt(hour);
    }
    w.h.clock.set(at(71.9));
    w.destination.mode = 'ok';
    await w.checkAt(72);
    expect(await w.outbox()).toEqual([
      [1, 0],
      ['R', 31],
      [2, 48],
    ]);
    expect(await w.exportDoc()).toMatchObject({ status: 'active', health: { state: 'healthy' } });
    expect(await w.run('req-40')).toMatchObject({ status: 'succeeded' });
    // The relapse had notice 2: its own recovery notice follows, once the next check finds the export delivering.
    await w.checkAt(73);
    expect((await w.outbox()).slice(3)).toEqual([['R', 73]]);
  });

  it('a transient error on the probe at the deadline never advances the escalation', async () => {
    w = await createWorld('transient-72');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    for (let hour = 0; hour <= 71; hour += 1) await w.checkAt(hour);
    // Fixed at 71.5 h; the 72 h probe meets a 503 from Cloud Storage.
    w.destination.mode = 'unavailable';
    await w.checkAt(72);
    expect(await w.exportDoc()).toMatchObject({ status: 'active', health: { state: 'failing' } });
    w.destination.mode = 'ok';
    await w.checkAt(73);
    expect(await w.outbox()).toEqual([
      [1, 0],
      [2, 48],
    ]);
    expect(await w.exportDoc()).toMatchObject({ status: 'active', health: { state: 'healthy' } });
    expect(await w.run('req-1')).toMatchObject({ status: 'succeeded' });
  });

  // Issue 16, problem 5.
  it('logs an unreadable export document by its path, skips it, and checks every other export', async () => {
    w = await createWorld('unreadable-export');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    await w.runtime.state.set('exports/acct-0~broken', UNREADABLE);
    await w.checkAt(0);
    expect(await w.outbox()).toEqual([[1, 0]]);
    expect(w.events('documentUnreadable')).toEqual([
      expect.objectContaining({ path: 'exports/acct-0~broken', by: 'check' }),
    ]);
    expect(JSON.stringify(w.h.logs)).not.toContain('SECRET-CONTENT');
  });

  // Issue 16, problem 10: the escalation gets its share whatever the sweep has to do.
  it('checks the failing exports when the sweep has used its share of the time', async () => {
    w = await createWorld('sweep-budget');
    w.destination.mode = 'keyRevoked';
    await w.publish('req-1');
    const outcome = await checkFailingExports(w.runtime.ctx, {
      destinations: w.runtime.destinationDeps,
      mailer: w.runtime.mailer,
      sweepOutOfTime: () => true,
      outOfTime: () => false,
    });
    expect(outcome).toMatchObject({ checked: 1, sweep: { complete: false, examined: 0 } });
    expect(outcome.notices).toHaveLength(1);
  });
});

import { DEFAULT_SETTINGS } from '../../../../shared/domain/context';
import { paths } from '../../../../shared/domain/documents';
import { requestHashOf } from '../../../../shared/domain/export/plan-export';
import { runIdFor } from '../../../../shared/domain/ids';
import { sweepRuns } from '../../../../shared/domain/health/sweep-runs';
import { createRun } from '../../../../shared/domain/lifecycle/write';
import type { World } from '../../../support/lifecycle-world';
import { at, createWorld } from '../../../support/lifecycle-world';
import { ACCOUNT } from '../../../support/local-harness';

/** `count` planning runs whose request was lost (nothing will plan them but the sweep). */
async function lostRequests(w: World, count: number): Promise<string[]> {
  await w.publish('template');
  const template = await w.run('template');
  if (!template) throw new Error('no template run');
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const requestId = `lost-request-${i}`;
    const runId = runIdFor(ACCOUNT, requestId);
    const { status: _status, planId: _planId, chunkCount: _chunks, totals: _totals, ...rest } = template;
    const request = { ...template.request, requestId };
    const run = { ...rest, runId, requestId, request, requestHash: requestHashOf(request) };
    await w.runtime.state.transaction((tx) => Promise.resolve(createRun(tx, run, 'received')));
    ids.push(runId);
  }
  return ids.sort();
}

describe('sweepRuns', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  // Issue 16, problem 10.
  it('works within its share of the time and goes on from its cursor at the next check', async () => {
    w = await createWorld('sweep-cursor', {
      settings: { health: { ...DEFAULT_SETTINGS.health, checkPageSize: 4 } },
    });
    const lost = await lostRequests(w, 20);
    const ctx = w.runtime.ctx;
    // First sighting: each run's clock starts.
    expect(await sweepRuns(ctx)).toMatchObject({ complete: true, examined: 20 });
    w.h.clock.set(at(2));
    const examined: number[] = [];
    const swept = new Set<string>();
    for (let check = 0; check < 10 && swept.size < lost.length; check += 1) {
      let pages = 0;
      const outcome = await sweepRuns(ctx, { outOfTime: () => (pages += 1) > 2 });
      examined.push(outcome.examined);
      for (const id of outcome.swept) swept.add(id);
    }
    // Two pages of four a check, each check starting where the last one stopped: every run swept once.
    expect(examined.slice(0, 3)).toEqual([8, 8, 4]);
    expect([...swept].sort()).toEqual(lost);
    await w.runtime.bus.drain();
    for (const id of lost) expect((await w.runtime.state.get(paths.run(id)))?.status).toBe('succeeded');
  });

  // Issue 16, problem 5.
  it('logs an unreadable run by its path, skips it, and sweeps the others', async () => {
    w = await createWorld('sweep-unreadable');
    const lost = await lostRequests(w, 2);
    await w.runtime.state.set(paths.run('broken'), { status: 'planning', runId: 7, note: 'SECRET-CONTENT' });
    const ctx = w.runtime.ctx;
    await sweepRuns(ctx);
    w.h.clock.set(at(2));
    const outcome = await sweepRuns(ctx);
    expect(outcome.swept.sort()).toEqual(lost);
    expect(w.events('documentUnreadable')).toEqual([
      expect.objectContaining({ path: paths.run('broken'), by: 'sweep' }),
      expect.objectContaining({ path: paths.run('broken'), by: 'sweep' }),
    ]);
    expect(JSON.stringify(w.h.logs)).not.toContain('SECRET-CONTENT');
  });
});

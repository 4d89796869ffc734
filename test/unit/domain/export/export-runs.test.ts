import { runsOfExportWith } from '../../../../shared/domain/export/export-runs';
import { DEFAULT_SETTINGS } from '../../../../shared/domain/context';
import type { World } from '../../../support/lifecycle-world';
import { at, createWorld, EXPORT } from '../../../support/lifecycle-world';
import { ACCOUNT } from '../../../support/local-harness';

describe('runsOfExportWith', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it("yields the export's runs of the given statuses once each, across pages, and no other export's", async () => {
    w = await createWorld('export-runs', {
      settings: { health: { ...DEFAULT_SETTINGS.health, checkPageSize: 2 } },
    });
    w.destination.mode = 'keyRevoked';
    for (let i = 0; i < 5; i += 1) {
      w.h.clock.set(at(i));
      await w.publish(`req-${i}`);
    }
    const seen: string[] = [];
    for await (const run of runsOfExportWith(w.runtime.ctx, { accountId: ACCOUNT, exportId: EXPORT }, [
      'blocked',
      'planning',
    ])) {
      seen.push(run.requestId);
    }
    expect(seen.sort()).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
    const none = runsOfExportWith(w.runtime.ctx, { accountId: ACCOUNT, exportId: 'other' }, ['blocked']);
    expect((await none.next()).done).toBe(true);
  });
});

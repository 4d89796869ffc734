import {
  claimDueNotice,
  claimRecoveryNotice,
  recordRecoveryNotice,
  releaseNotice,
  releaseRecoveryNotice,
  stopAfterNotice3,
} from '../../../../shared/domain/health/notice-claims';
import type { NoticeClaim, RecoveryNotice } from '../../../../shared/domain/documents';
import type { World } from '../../../support/lifecycle-world';
import {
  at,
  createWorld,
  EXPORT,
  recoveredWithRecoveryNoticeRefused,
} from '../../../support/lifecycle-world';
import { ACCOUNT } from '../../../support/local-harness';

const KEY = { accountId: ACCOUNT, exportId: EXPORT };

/** An export failing since hour 0 with notices 1 and 2 recorded, at hour 72: notice 3 is due. */
async function dueForNotice3(w: World): Promise<void> {
  w.destination.mode = 'keyRevoked';
  await w.publish('req-1');
  for (const hour of [0, 48]) await w.checkAt(hour);
  w.h.clock.set(at(72));
}

describe('notice claims', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('claims notice 3 only for a check that may stop (its probe saw the destination refuse)', async () => {
    w = await createWorld('claim-may-stop');
    await dueForNotice3(w);
    const ctx = w.runtime.ctx;
    expect(await claimDueNotice(ctx, KEY, 'probe-passed', ctx.settings.health, false)).toEqual({
      claimed: false,
    });
    const claimed = await claimDueNotice(ctx, KEY, 'probe-refused', ctx.settings.health, true);
    expect(claimed).toMatchObject({ claimed: true, claim: { notice: 3, holder: 'probe-refused' } });
    // A second check meanwhile finds the live claim.
    expect(await claimDueNotice(ctx, KEY, 'other', ctx.settings.health, true)).toEqual({ claimed: false });
  });

  it('stops only under the claim: a resume that cleared it wins', async () => {
    w = await createWorld('stop-under-claim');
    await dueForNotice3(w);
    const ctx = w.runtime.ctx;
    const result = await claimDueNotice(ctx, KEY, 'check-a', ctx.settings.health, true);
    if (!result.claimed) throw new Error('not claimed');
    const sent = { notice: 3 as const, at: at(72).toISOString(), messageId: 'm3' };

    w.destination.mode = 'ok';
    expect(await w.api('POST', `/exports/${EXPORT}/resume`)).toMatchObject({ status: 200 });
    expect(await stopAfterNotice3(ctx, KEY, result.claim, sent)).toBe(false);
    expect(await w.exportDoc()).toMatchObject({ status: 'active', noticeClaim: null });
  });

  it('stops when the claim is still held and the export still failing', async () => {
    w = await createWorld('stop-held-claim');
    await dueForNotice3(w);
    const ctx = w.runtime.ctx;
    const result = await claimDueNotice(ctx, KEY, 'check-a', ctx.settings.health, true);
    if (!result.claimed) throw new Error('not claimed');
    const sent = { notice: 3 as const, at: at(72).toISOString(), messageId: 'm3' };
    expect(await stopAfterNotice3(ctx, KEY, { ...result.claim, holder: 'check-b' }, sent)).toBe(false);
    expect(await stopAfterNotice3(ctx, KEY, result.claim, sent)).toBe(true);
    const doc = await w.exportDoc();
    expect(doc).toMatchObject({ status: 'stopped', stoppedAt: sent.at, noticeClaim: null });
    expect(doc.noticesSent.map((n) => n.notice)).toEqual([1, 2, 3]);
  });

  describe("a recovery notice replaced by a later episode's while its own send was in flight", () => {
    /**
     * Episode 1 (hour 0) warned and recovered at hour 1; at hour 2 a check claims its recovery notice ('check-a').
     * Episode 2 opens at hour 30 and recovers at hour 31 while its notice 1 is in flight ('check-b'): the new recovery
     * notice waits for that send and keeps episode 1's beside it, with its claim.
     */
    async function replacedInFlight(world: World): Promise<{ first: RecoveryNotice; claimB: NoticeClaim }> {
      const ctx = world.runtime.ctx;
      await recoveredWithRecoveryNoticeRefused(world);
      world.h.clock.set(at(2));
      const claimedA = await claimRecoveryNotice(ctx, KEY, 'check-a');
      if (!claimedA.claimed) throw new Error('recovery notice not claimed');
      world.destination.mode = 'bucketGone';
      world.h.clock.set(at(30));
      await world.publish('req-2');
      world.h.clock.set(at(31));
      const claimedB = await claimDueNotice(ctx, KEY, 'check-b', ctx.settings.health, false);
      if (!claimedB.claimed) throw new Error('notice 1 not claimed');
      world.destination.mode = 'ok';
      expect(await world.api('POST', `/exports/${EXPORT}/resume`)).toMatchObject({ status: 200 });
      expect((await world.exportDoc()).recoveryNotice).toMatchObject({
        episodeStart: at(30).toISOString(),
        waitFor: { holder: 'check-b' },
        instead: { episodeStart: at(0).toISOString(), afterNotice: 1, claim: { holder: 'check-a' } },
      });
      return { first: claimedA.notice, claimB: claimedB.claim };
    }

    it('went out: nothing is restored when the later notice is refused', async () => {
      w = await createWorld('replaced-recovery-sent');
      const { first, claimB } = await replacedInFlight(w);
      const ctx = w.runtime.ctx;
      await recordRecoveryNotice(ctx, KEY, first, { at: at(31).toISOString(), messageId: 'r1' });
      expect((await w.exportDoc()).recoveryNotice).toMatchObject({ instead: null });
      await releaseNotice(ctx, KEY, claimB);
      expect((await w.exportDoc()).recoveryNotice).toMatchObject({
        episodeStart: at(30).toISOString(),
        due: false,
      });
    });

    it('refused: due again, unclaimed, when the later notice is refused too', async () => {
      w = await createWorld('replaced-recovery-refused');
      const { claimB } = await replacedInFlight(w);
      const ctx = w.runtime.ctx;
      await releaseRecoveryNotice(ctx, KEY, 'check-a');
      await releaseNotice(ctx, KEY, claimB);
      expect((await w.exportDoc()).recoveryNotice).toMatchObject({
        episodeStart: at(0).toISOString(),
        afterNotice: 1,
        due: true,
        waitFor: null,
        instead: null,
        claim: null,
      });
    });
  });
});

import { claimDueNotice, stopAfterNotice3 } from '../../../../shared/domain/health/notice-claims';
import type { World } from '../../../support/lifecycle-world';
import { at, createWorld, EXPORT } from '../../../support/lifecycle-world';
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
});

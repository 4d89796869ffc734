import { performance } from 'node:perf_hooks';
import type { ExportDoc } from '../../../../shared/domain/documents';
import { paths } from '../../../../shared/domain/documents';
import { checkFailingExports } from '../../../../shared/domain/health/check-failing-exports';
import { exportDocId } from '../../../../shared/domain/ids';
import type { ListQuery } from '../../../../shared/ports/state-store.port';
import type { MailMessage } from '../../../../shared/ports/mailer.port';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, DESTINATION, createHarness } from '../../../support/local-harness';
import { SwitchableDestination } from '../../../support/switchable-destination';

const EXPORTS = 2_500;

/** Failing exports written straight into the state store, as thousands of workers would have left them. */
async function failingExports(h: Harness, count: number): Promise<void> {
  const at = h.clock.now().toISOString();
  for (let i = 0; i < count; i += 1) {
    const exportId = `export-${String(i).padStart(5, '0')}`;
    const doc: ExportDoc = {
      accountId: ACCOUNT,
      exportId,
      destinationId: DESTINATION,
      createdBy: { email: `owner-${i}@example.com`, name: `Owner ${i}` },
      status: 'active',
      health: {
        state: 'failing',
        firstFailureAt: at,
        lastFailureAt: at,
        lastError: { kind: 'destination', code: 'bucketNotFound', message: 'gone', at },
      },
      noticesSent: [],
      noticesMaybeSent: [],
      updatedAt: at,
    };
    await h.runtime.state.set(paths.export(exportDocId(ACCOUNT, exportId)), doc);
  }
}

describe('the hourly check at scale', () => {
  let h: Harness;
  let pages: (number | undefined)[];
  const sent: MailMessage[] = [];
  const mailer = {
    send: (message: MailMessage) => {
      sent.push(message);
      return Promise.resolve({ messageId: `m-${sent.length}` });
    },
  };

  beforeEach(async () => {
    sent.length = 0;
    let destination: SwitchableDestination | undefined;
    h = await createHarness({
      label: 'check-scale',
      wrapDestination: (store) => (destination = new SwitchableDestination(store)),
    });
    if (destination) destination.mode = 'bucketGone';
    await failingExports(h, EXPORTS);
    pages = [];
    const state = h.runtime.state;
    const list = state.list.bind(state);
    state.list = (collection: string, query?: ListQuery) => {
      if (collection === 'exports') pages.push(query?.limit);
      return list(collection, query);
    };
  });
  afterEach(async () => h.dispose());

  it(`checks ${EXPORTS.toLocaleString('en-US')} failing exports in bounded pages and sends each its notice 1`, async () => {
    const started = performance.now();
    const outcome = await checkFailingExports(h.runtime.ctx, {
      destinations: h.runtime.destinationDeps,
      mailer,
    });
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `check of ${EXPORTS} failing exports on the embedded adapters: ${seconds.toFixed(1)} s\n`,
    );

    expect(outcome).toMatchObject({ checked: EXPORTS, complete: true, mailFailures: 0 });
    expect(new Set(sent.map((m) => m.to)).size).toBe(EXPORTS);
    const { checkPageSize } = h.runtime.ctx.settings.health;
    expect(pages.length).toBeGreaterThanOrEqual(EXPORTS / checkPageSize);
    expect(pages.every((limit) => limit === checkPageSize)).toBe(true);
  });

  it('stops taking exports when its time is up, and the next check goes on with the rest', async () => {
    let pagesLeft = 3;
    const first = await checkFailingExports(h.runtime.ctx, {
      destinations: h.runtime.destinationDeps,
      mailer,
      outOfTime: () => pagesLeft-- <= 0,
    });
    expect(first).toMatchObject({
      complete: false,
      checked: 3 * h.runtime.ctx.settings.health.checkPageSize,
    });
    const second = await checkFailingExports(h.runtime.ctx, {
      destinations: h.runtime.destinationDeps,
      mailer,
    });
    expect(second.complete).toBe(true);
    expect(new Set(sent.map((m) => m.to)).size).toBe(EXPORTS);
  });
});

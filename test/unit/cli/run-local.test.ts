import { formatSummary } from '../../../shared/cli/report';
import { runRequestLocally } from '../../../shared/cli/run-local';
import type { Harness } from '../../support/local-harness';
import { createHarness, eventLines } from '../../support/local-harness';

describe('runRequestLocally', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ label: 'run-local' });
    await h.writeSource('events/a.ndjson', eventLines(200));
  });
  afterAll(() => h.dispose());

  it('measures the throughput of a run it did, and gives none when the same request runs again', async () => {
    const first = await runRequestLocally(h.runtime, h.request());
    expect(first).toMatchObject({ status: 'succeeded', sourceRecords: 200 });
    expect(first.earlier).toBeUndefined();
    expect(first.recordsPerSecond).toBeGreaterThan(0);
    expect(formatSummary(first)).toMatch(/throughput {3}[\d,]+ records\/s/);

    const again = await runRequestLocally(h.runtime, h.request());
    expect(again).toMatchObject({ status: 'succeeded', sourceRecords: 200, earlier: 'finished' });
    expect(again.recordsPerSecond).toBeUndefined();
    expect(again.uncompressedMBPerSecond).toBeUndefined();
    const shown = formatSummary(again);
    expect(shown).not.toMatch(/records\/s|MiB\/s/);
    expect(shown).toMatch(/throughput {3}none: this request's run was already finished/);
  });

  it('says what to do about a run its destination blocked: the error in the doc words, the fix, what happens after', async () => {
    const broken = await createHarness({ label: 'run-local-blocked', createDestinationBucket: false });
    try {
      await broken.writeSource('events/a.ndjson', eventLines(20));
      const summary = await runRequestLocally(broken.runtime, broken.request());
      expect(summary.status).toBe('blocked');
      const shown = formatSummary(summary);
      expect(shown).toMatch(/explanation {2}Blocked: 404 — The bucket customer-bucket was not found\./);
      expect(shown).toContain('Check if the bucket name is the same as in GCP.');
      expect(shown).toContain('continues where it stopped');
    } finally {
      await broken.dispose();
    }
  });
});

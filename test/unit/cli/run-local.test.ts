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
});

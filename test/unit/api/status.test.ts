import { exportDocId, runIdFor } from '../../../shared/domain/ids';
import { paths } from '../../../shared/domain/documents';
import type { World } from '../../support/lifecycle-world';
import { ACCOUNT } from '../../support/local-harness';
import { at, createWorld, EXPORT } from '../../support/lifecycle-world';

const TEAM_NOTIFIED = 'Our team has been notified; nothing is needed from you';

/** Stops the export the way the policy does: its bucket gone, notices at 0, 48 and 72 h. */
async function stopped(w: World): Promise<void> {
  w.destination.mode = 'bucketGone';
  await w.publish('req-1');
  for (let hour = 0; hour <= 72; hour += 1) await w.checkAt(hour);
  expect(await w.exportDoc()).toMatchObject({ status: 'stopped' });
}

type Json = Record<string, unknown>;
const body = (answer: { body?: unknown }) => answer.body as Json;
const runsOf = async (w: World) =>
  (body(await w.api('GET', `/exports/${EXPORT}/runs`)).items as Json[]).map((r) => [r.status, r]);

/** What the API tells a customer about a stopped export and the runs it holds or blocked (issue 21). */
describe('the status API: stopped exports and held runs tell the truth', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('a held run and a blocked run of a stopped export: what happened, what to do, delivered after the restart', async () => {
    w = await createWorld('status-stopped');
    await stopped(w);
    w.h.clock.set(at(80));
    await w.publish('req-80');
    const runs = Object.fromEntries(await runsOf(w)) as Record<string, Json>;
    const held = runs.held;
    const blocked = runs.blocked;
    for (const run of [held, blocked]) {
      const said = JSON.stringify(run);
      expect(said).not.toContain(TEAM_NOTIFIED);
      expect(run.explanation).toEqual(
        expect.stringContaining('404 — The bucket customer-bucket was not found.'),
      );
      expect(run.explanation).toEqual(
        expect.stringContaining('Check if the bucket name is the same as in GCP.'),
      );
      expect(run.explanation).toEqual(expect.stringContaining('restart the export'));
    }
    expect(held.explanation).toMatch(/^Held: the export is stopped/);
    expect(held.explanation).toContain(
      'After the restart this request is delivered, in the order the requests arrived.',
    );
    expect(blocked.explanation).toContain('After the restart this run continues where it stopped');

    const single = body(await w.api('GET', `/runs/${runIdFor(ACCOUNT, 'req-80')}`));
    expect(single.explanation).toBe(held.explanation);

    const shown = body(await w.api('GET', `/exports/${EXPORT}`));
    expect(shown.explanation).toEqual(
      expect.stringMatching(/^Stopped on 2026-03-04 00:00 UTC: 404 — The bucket/),
    );
    expect(shown.explanation).toContain('Then restart the export.');
    expect(shown.explanation).toContain('delivered after the restart');
    expect(JSON.stringify(shown)).not.toContain(TEAM_NOTIFIED);
  });

  it('a run an earlier version recorded as skipped (exportStopped) says the same, never "nothing is needed from you"', async () => {
    w = await createWorld('status-skipped');
    await stopped(w);
    // What earlier versions wrote for a request that arrived while the export was stopped.
    const runId = runIdFor(ACCOUNT, 'req-old');
    const request = w.h.request({ requestId: 'req-old' });
    const now = at(80).toISOString();
    await w.runtime.state.set(paths.run(runId), {
      runId,
      requestId: 'req-old',
      requestHash: 'h',
      accountId: ACCOUNT,
      exportId: EXPORT,
      destinationId: request.destinationId,
      request,
      status: 'skipped',
      failure: {
        kind: 'input',
        code: 'exportStopped',
        message: `export "${EXPORT}" is stopped until it is resumed; this request was skipped`,
        at: now,
      },
      createdAt: now,
      completedAt: now,
      updatedAt: now,
    });
    await w.runtime.state.set(paths.exportRun(exportDocId(ACCOUNT, EXPORT), now, runId), {
      runId,
      createdAt: now,
    });
    const said = body(await w.api('GET', `/runs/${runId}`));
    expect(JSON.stringify(said)).not.toContain(TEAM_NOTIFIED);
    expect(said.failure).toMatchObject({ code: 'exportStopped' });
    expect((said.failure as Json).message).toContain('delivered after the export is restarted');
    expect(said.explanation).toEqual(expect.stringMatching(/^Held: the export is stopped/));
    const listed = Object.fromEntries(await runsOf(w)) as Record<string, Json>;
    expect(JSON.stringify(listed.skipped)).not.toContain(TEAM_NOTIFIED);
  });

  it('a failing export and its blocked run: the error in the doc words, the fix, and that it resumes by itself', async () => {
    w = await createWorld('status-failing');
    w.destination.mode = 'bucketGone';
    await w.publish('req-1');
    await w.checkAt(0);
    const [[status, run]] = (await runsOf(w)) as [[string, Json]];
    expect(status).toBe('blocked');
    expect(run.explanation).toMatch(/^Blocked: 404 — The bucket customer-bucket was not found\./);
    expect(run.explanation).toContain('continues where it stopped');
    const shown = body(await w.api('GET', `/exports/${EXPORT}`));
    expect(shown.explanation).toMatch(/^Failing since 2026-03-01 00:00 UTC: 404 — The bucket/);
    expect(shown.explanation).toContain('resumes where it left off');
  });

  it('a healthy export and a succeeded run need no explanation', async () => {
    w = await createWorld('status-healthy');
    await w.publish('req-1');
    const [[status, run]] = (await runsOf(w)) as [[string, Json]];
    expect(status).toBe('succeeded');
    expect(run.explanation).toBeUndefined();
    expect(body(await w.api('GET', `/exports/${EXPORT}`)).explanation).toBeUndefined();
  });
});

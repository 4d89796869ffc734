import { ERROR_CODES } from '../../../../shared/domain/error-codes';
import type { ErrorCode } from '../../../../shared/domain/error-codes';
import type { ExportDoc } from '../../../../shared/domain/documents';
import type { ExportSituation } from '../../../../shared/domain/health/run-explanation';
import { explainExport, explainRun, situationOf } from '../../../../shared/domain/health/run-explanation';

const DESTINATION_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
  (code) => ERROR_CODES[code].kind === 'destination',
);

const stopped: ExportSituation = {
  state: 'stopped',
  errorCode: 'bucketNotFound',
  firstFailureAt: '2026-03-01T00:00:00Z',
  stoppedAt: '2026-03-04T00:00:00Z',
  destination: { bucket: 'acme-exports' },
};
const failing: ExportSituation = { ...stopped, state: 'failing', stoppedAt: undefined };

describe('run and export explanations', () => {
  it.each(DESTINATION_CODES)(
    '%s: a held run of a stopped export says what happened, the fix in the doc words, restart, and delivery after',
    (code) => {
      const said = explainRun({ status: 'held' }, { ...stopped, errorCode: code }) ?? '';
      expect(said).toMatch(/^Held: the export is stopped, so this request was not delivered yet\./);
      expect(said).toContain('It stopped on 2026-03-04 00:00 UTC because: ');
      expect(said).toContain('Then restart the export.');
      expect(said).toContain(
        'After the restart this request is delivered, in the order the requests arrived.',
      );
      expect(said).not.toMatch(/nothing is needed from you|team has been notified/i);
      if (code !== 'destinationRejected') expect(said).not.toContain('refused the export');
    },
  );

  it('names the error and the fix in the words of the notices', () => {
    const said = explainRun({ status: 'skipped' }, stopped) ?? '';
    expect(said).toContain('404 — The bucket acme-exports was not found.');
    expect(said).toContain('Check if the bucket name is the same as in GCP.');
    const roles =
      explainRun(
        { status: 'blocked' },
        { ...failing, errorCode: 'missingPermissions', destination: { bucket: 'b', principal: 'sa@p.iam' } },
      ) ?? '';
    expect(roles).toContain('Give the service account sa@p.iam the Storage Object Creator');
    expect(roles).toContain('403 — Credentials are incorrect, GCP account is forbidden.');
  });

  it('a run an earlier version skipped (exportStopped failure) reads as held', () => {
    const failure = {
      kind: 'input' as const,
      code: 'exportStopped',
      message: 'x',
      at: '2026-03-04T01:00:00Z',
    };
    expect(explainRun({ status: 'skipped', failure }, stopped)).toMatch(/^Held: the export is stopped/);
  });

  it('a blocked run: of a stopped export it continues after the restart; of a failing one, by itself', () => {
    expect(explainRun({ status: 'blocked' }, stopped)).toMatch(
      /^Blocked: the export was stopped on 2026-03-04 00:00 UTC because: 404 .* Then restart the export\. After the restart this run continues where it stopped/,
    );
    const said = explainRun({ status: 'blocked' }, failing) ?? '';
    expect(said).toMatch(/^Blocked: 404 — The bucket acme-exports was not found\./);
    expect(said).toContain('Once the destination works again this run continues where it stopped');
    expect(said).toContain('the export stops three days after the first failure');
  });

  it('once the export is healthy again, a held run is being delivered', () => {
    expect(explainRun({ status: 'held' }, { ...stopped, state: 'healthy' })).toContain(
      'The export was restarted: this request is delivered now',
    );
  });

  it('runs that are delivered, failed or in progress need no explanation', () => {
    for (const status of ['planning', 'running', 'succeeded', 'failed'] as const)
      expect(explainRun({ status }, stopped)).toBeUndefined();
  });

  it('explains a stopped and a failing export, and says nothing of a healthy one', () => {
    expect(explainExport(stopped)).toMatch(
      /^Stopped on 2026-03-04 00:00 UTC: 404 .* What to do: .* Then restart the export\. .* delivered after the restart, in the order the requests arrived\.$/,
    );
    expect(explainExport(failing)).toMatch(/^Failing since 2026-03-01 00:00 UTC: 404 /);
    expect(explainExport(failing)).toContain('resumes where it left off');
    expect(explainExport({ ...failing, state: 'healthy' })).toBeUndefined();
  });

  it('reads the situation from the export document: the stop reason of a stopped export', () => {
    const doc = {
      status: 'stopped',
      stoppedAt: '2026-03-04T00:00:00Z',
      stopReason: { kind: 'destination', code: 'retentionPolicyNotMet', message: 'm', at: 'x' },
      health: {
        state: 'failing',
        firstFailureAt: '2026-03-01T00:00:00Z',
        lastError: { kind: 'destination', code: 'forbidden', message: 'm', at: 'x' },
      },
    } as unknown as ExportDoc;
    expect(situationOf(doc, { bucket: 'b' })).toEqual({
      state: 'stopped',
      errorCode: 'retentionPolicyNotMet',
      firstFailureAt: '2026-03-01T00:00:00Z',
      stoppedAt: '2026-03-04T00:00:00Z',
      destination: { bucket: 'b' },
    });
  });
});

import path from 'node:path';
import { cli, lastJson } from '../../support/cli';
import { tempDir } from '../../support/temp-dir';

describe('gcs-export demo --keyless', () => {
  const dir = tempDir('keyless-demo');
  afterAll(() => dir.remove());

  it('prints the principal and the grant commands, revokes the grant midway (notice 1 naming the roles), grants it again: the export completes and the next check sends the recovery notice', async () => {
    const { stdout, code } = await cli('demo', '--keyless', '--data', path.join(dir.path, 'data'), '--json');
    expect(code).toBe(0);
    const summary = lastJson(stdout);
    const principal = String(summary.principal);
    expect(principal).toMatch(/^gx[a-z2-7]{28}@local-principals\.iam\.gserviceaccount\.com$/);
    expect(summary).toMatchObject({
      commands: [
        `gcloud storage buckets add-iam-policy-binding gs://demo-keyless-bucket --member=serviceAccount:${principal} --role=roles/storage.objectCreator`,
        `gcloud storage buckets add-iam-policy-binding gs://demo-keyless-bucket --member=serviceAccount:${principal} --role=roles/storage.objectViewer`,
      ],
      failure: 'missingPermissions',
      notices: [{ number: 1 }],
      noticeNamesRoles: true,
      recoveryNotice: { afterNotice: 1 },
      runStatus: 'succeeded',
    });
    expect(Number(summary.chunks)).toBeGreaterThan(2);
    expect(stdout).toContain(`$ gcloud storage buckets add-iam-policy-binding gs://demo-keyless-bucket`);
    expect(stdout).toMatch(/hour 0: the customer revokes the grant after \d+ of \d+ chunks/);
    expect(stdout).toContain('hour 1 check: the probe passes, export resumed; run succeeded');
    expect(stdout).toMatch(/hour 2 check: recovery notice sent to demo\.owner@example\.com: ".*works again"/);
  });

  it('refuses --keyless with --failure', async () => {
    const { stderr, code } = await cli(
      'demo',
      '--keyless',
      '--failure',
      '--data',
      path.join(dir.path, 'other'),
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain('choose one of --keyless and --failure');
  });
});

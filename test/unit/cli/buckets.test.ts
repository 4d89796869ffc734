import path from 'node:path';
import { cli, lastJson } from '../../support/cli';
import { tempDir } from '../../support/temp-dir';

/** A customer's keyless set-up on the local data folder, command by command, as docs/connect-without-a-key.md shows. */
describe('gcs-export buckets … and destinations add --grant', () => {
  const dir = tempDir('buckets-cli');
  const data = path.join(dir.path, 'data');
  afterAll(() => dir.remove());
  const run = (...args: string[]) => cli(...args, '--data', data);

  it('names the principal, is refused until the bucket grants both roles, then saves; a revoked grant fails validate', async () => {
    const shown = await run(
      'destinations',
      'principal',
      '--account',
      'acct-cli',
      '--bucket',
      'my-bucket',
      '--json',
    );
    expect(shown.code).toBe(0);
    const principal = String(lastJson(shown.stdout).principal);
    expect(shown.stdout).toContain(
      `gcloud storage buckets add-iam-policy-binding gs://my-bucket --member=serviceAccount:${principal} --role=roles/storage.objectCreator`,
    );
    const add = [
      'destinations',
      'add',
      '--account',
      'acct-cli',
      '--nickname',
      'Mine',
      '--bucket',
      'my-bucket',
      '--id',
      'mine',
    ];
    const refused = await run(...add, '--grant', '--create-bucket');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('missingPermissions');
    expect(refused.stderr).toContain(principal);

    const member = `--member=serviceAccount:${principal}`;
    for (const role of ['roles/storage.objectCreator', 'roles/storage.objectViewer'])
      expect(
        (await run('buckets', 'add-iam-policy-binding', 'gs://my-bucket', member, `--role=${role}`)).code,
      ).toBe(0);
    const policy = await run('buckets', 'get-iam-policy', 'gs://my-bucket', '--json');
    expect(lastJson(policy.stdout)).toEqual({
      bindings: [
        { role: 'roles/storage.objectCreator', members: [`serviceAccount:${principal}`] },
        { role: 'roles/storage.objectViewer', members: [`serviceAccount:${principal}`] },
      ],
    });
    const saved = await run(...add, '--grant', '--json');
    expect(saved.code).toBe(0);
    expect(lastJson(saved.stdout)).toMatchObject({ destinationId: 'mine', grant: { principal } });
    expect(saved.stdout).toContain(`granted to ${principal}`);

    expect(
      (
        await run(
          'buckets',
          'remove-iam-policy-binding',
          'my-bucket',
          member,
          '--role=roles/storage.objectCreator',
        )
      ).code,
    ).toBe(0);
    const validate = await run('destinations', 'validate', 'mine', '--account', 'acct-cli');
    expect(validate.code).not.toBe(0);
    expect(validate.stderr).toContain('lacks storage.objects.create');
  });

  it('refuses --grant with --key, and a member that is not a service account', async () => {
    const both = await run(
      'destinations',
      'add',
      '--account',
      'a',
      '--nickname',
      'n',
      '--bucket',
      'b',
      '--grant',
      '--key',
      'k.json',
    );
    expect(both.stderr).toContain('choose one of --key and --grant');
    const bad = await run(
      'buckets',
      'add-iam-policy-binding',
      'my-bucket',
      '--member=allUsers',
      '--role=roles/storage.objectViewer',
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('member: must be serviceAccount:EMAIL');
  });
});

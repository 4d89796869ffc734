import path from 'node:path';
import { cli, lastJson } from '../../support/cli';
import { tempDir } from '../../support/temp-dir';

describe('gcs-export notifications show|set (the notification-settings routes on the data folder)', () => {
  const dir = tempDir('cli-notifications');
  const data = path.join(dir.path, 'data');
  afterAll(() => dir.remove());
  const run = (...args: string[]) => cli('notifications', ...args, '--account', 'a1', '--data', data);

  it('sets contacts and a webhook, prints its secret once, and shows them without it', async () => {
    const set = await run(
      'set',
      '--email',
      'ops@example.com',
      '--email',
      'team@example.org',
      '--webhook',
      'https://8.8.8.8/hook',
    );
    expect(set.code).toBe(0);
    const secret = /signing secret \(shown once, store it now\): (whsec_\S+)/.exec(set.stdout)?.[1];
    expect(secret).toBeDefined();
    const shown = await run('show', '--json');
    expect(shown.code).toBe(0);
    expect(lastJson(shown.stdout)).toMatchObject({
      emails: ['ops@example.com', 'team@example.org'],
      webhook: { url: 'https://8.8.8.8/hook' },
    });
    expect(shown.stdout).not.toContain(secret ?? 'whsec_');
  });

  it('refuses a webhook on loopback or the metadata server, with the API code', async () => {
    for (const url of ['https://127.0.0.1/hook', 'https://169.254.169.254/']) {
      const refused = await run('set', '--webhook', url);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('webhookUrlRefused');
    }
  });

  it('removes the webhook when set without one', async () => {
    expect((await run('set', '--email', 'ops@example.com')).code).toBe(0);
    expect(lastJson((await run('show', '--json')).stdout)).toMatchObject({ webhook: null });
  });
});

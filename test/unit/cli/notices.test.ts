import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../../support/cli';
import { tempDir } from '../../support/temp-dir';

/** `gcs-export notices preview`: any notice, as a customer would read it, written where a person can open it. */
describe('gcs-export notices preview', () => {
  it.each([
    [
      '1',
      'tokenExchangeRefused',
      /403 — Credentials are incorrect, GCP account is forbidden\./,
      /paste the whole key file/,
    ],
    ['3', 'bucketNotFound', /Bucket names must match exactly/, /stopped/i],
    ['recovery', 'retentionPolicyNotMet', /403: retentionPolicyNotMet/, /works again/],
  ])('writes notice %s for %s as text and HTML', async (number, code, words, more) => {
    const out = tempDir('previews');
    const { stdout, code: exit } = await cli(
      'notices',
      'preview',
      '--number',
      number,
      '--code',
      code,
      '--out',
      out.path,
    );
    expect(exit).toBe(0);
    expect(stdout).toContain(`notice-${number}-${code}.html`);
    const text = readFileSync(path.join(out.path, `notice-${number}-${code}.txt`), 'utf8');
    const html = readFileSync(path.join(out.path, `notice-${number}-${code}.html`), 'utf8');
    expect(text).toMatch(/^Subject: .+\n\n/);
    for (const body of [text, html]) {
      expect(body).toMatch(words);
      expect(body).toMatch(more);
      expect(body).toContain('acme-analytics-exports');
    }
    expect(html).toMatch(/<html|<body|<p/i);
    out.remove();
  });

  it('refuses a code no notice is sent for', async () => {
    const out = tempDir('previews-bad');
    const { stderr, code } = await cli('notices', 'preview', '--code', 'unexpected', '--out', out.path);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Allowed choices are/);
    out.remove();
  });
});

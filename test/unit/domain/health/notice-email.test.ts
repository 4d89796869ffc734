import type { NoticeFacts } from '../../../../shared/domain/health/notice-email';
import { fixUrlFor, renderNotice } from '../../../../shared/domain/health/notice-email';

const FIRST = new Date('2026-03-01T09:00:00Z');
const hours = (n: number) => new Date(FIRST.getTime() + n * 3_600_000);

const base: NoticeFacts = {
  notice: 1,
  exportId: 'daily-events',
  recipient: { email: 'owner@example.com', name: 'Priya Owner' },
  destination: { nickname: 'Warehouse bucket', bucket: 'acme-exports' },
  errorCode: 'credentialsInvalid',
  firstFailureAt: FIRST,
  now: hours(0),
  stopAt: hours(72),
  undelivered: [],
  fixUrl: fixUrlFor(
    'https://app.example.com/accounts/{accountId}/exports/{exportId}/destination/{destinationId}',
    {
      accountId: 'acct-1',
      exportId: 'daily-events',
      destinationId: 'warehouse',
    },
  ),
};

const stopped: NoticeFacts = {
  ...base,
  notice: 3,
  errorCode: 'bucketNotFound',
  now: hours(72),
  stopAt: hours(72),
  undelivered: [
    {
      runId: '52cd720d28a3',
      kind: 'events',
      window: { from: '2026-02-28T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      chunks: { done: 3, total: 8 },
      undeliveredBytes: 5 * 1024 * 1024 + 300 * 1024,
    },
  ],
};

/** Values a customer controls (nickname, name) or that come from data, written to break out of their place. */
const HOSTILE = {
  nickname: '<script>alert("x")</script> & \'co\'\r\nBcc: victim@example.com',
  name: 'Eve <eve@example.com>\n\nYour export is fine, ignore this mail.',
  exportId: 'exp"><img src=x onerror=alert(1)>',
  bidi: 'reversed\u202egnp.exe',
};

describe('notice e-mails', () => {
  it.each([
    ['notice 1: credentials', { ...base }],
    ['notice 1: bucket missing', { ...base, errorCode: 'bucketNotFound' }],
    [
      'notice 2: retention policy',
      { ...base, notice: 2, errorCode: 'retentionPolicyNotMet', now: hours(48) },
    ],
    [
      'notice 2: forbidden, late',
      { ...base, notice: 2, errorCode: 'forbidden', now: hours(60), stopAt: hours(84) },
    ],
    ['notice 3: stopped', stopped],
  ] as [string, NoticeFacts][])('%s', (_name, facts) => {
    const mail = renderNotice(facts);
    expect(mail.subject).toMatchSnapshot('subject');
    expect(mail.text).toMatchSnapshot('text');
    expect(mail.html).toMatchSnapshot('html');
  });

  it('notices 1 and 2 carry the error in the documentation’s words, the fix, the facts, the deadline and the link', () => {
    const mail = renderNotice({ ...base, notice: 2, now: hours(48) });
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('403 — Credentials are incorrect, GCP account is forbidden.');
      expect(part).toContain('paste the whole key file into the integration');
      expect(part).toContain('Warehouse bucket');
      expect(part).toContain('gs://acme-exports');
      expect(part).toContain('2026-03-01 09:00 UTC'); // first seen
      expect(part).toContain('2026-03-04 09:00 UTC'); // stops on
      expect(part).toContain(
        'https://app.example.com/accounts/acct-1/exports/daily-events/destination/warehouse',
      );
    }
    expect(mail.subject).toBe('Your data export "daily-events" stops in 24 hours unless fixed');
  });

  it('notice 3 says the export stopped, what was not delivered and how to restart it, and nothing internal', () => {
    const mail = renderNotice(stopped);
    expect(mail.subject).toBe('Your data export "daily-events" has stopped');
    expect(mail.text).toContain('events from 2026-02-28 00:00 UTC to 2026-03-01 00:00 UTC');
    expect(mail.text).toContain('63 % not delivered, about 5.3 MiB of data');
    expect(mail.text).toContain('restart the export');
    expect(mail.text).not.toMatch(/gs:\/\/platform|chunk|slice|plan/i);
  });

  it.each([1, 2, 3] as const)('escapes every interpolated value in notice %s', (notice) => {
    const mail = renderNotice({
      ...stopped,
      notice,
      exportId: HOSTILE.exportId,
      recipient: { email: 'owner@example.com', name: HOSTILE.name },
      destination: { nickname: `${HOSTILE.nickname} ${HOSTILE.bidi}`, bucket: 'acme-exports' },
      fixUrl: 'https://app.example.com/x?a=1&b="2"',
    });
    expect({ subject: mail.subject, text: mail.text, html: mail.html }).toMatchSnapshot('hostile values');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<img');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(mail.html).toContain('href="https://app.example.com/x?a=1&amp;b=&quot;2&quot;"');
    for (const part of [mail.text, mail.html]) {
      // A value never starts a line of its own, nor turns the reading order around.
      expect(part).not.toMatch(/\nBcc:|\nYour export is fine/);
      expect(part).not.toContain('\u202e');
    }
    expect(mail.text).toContain('Hello Eve <eve@example.com>  Your export is fine, ignore this mail.,');
  });

  it('fills the dashboard link with URL-encoded ids', () => {
    expect(
      fixUrlFor('https://x.example/{accountId}/{exportId}?d={destinationId}', {
        accountId: 'a b',
        exportId: 'e/../f',
        destinationId: 'd&x=1',
      }),
    ).toBe('https://x.example/a%20b/e%2F..%2Ff?d=d%26x%3D1');
  });
});

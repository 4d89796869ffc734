import { ERROR_CODES } from '../../../../shared/domain/error-codes';
import type { ErrorCode } from '../../../../shared/domain/error-codes';
import type { NoticeFacts, RecoveryFacts } from '../../../../shared/domain/health/notice-email';
import { fixUrlFor, renderNotice, renderRecoveryNotice } from '../../../../shared/domain/health/notice-email';

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
      expect(part).toContain('paste the whole key file');
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

  it('uses the display name in the subject and the body, with the id beside it, and falls back to the id', () => {
    const named = { ...base, displayName: 'Daily events → warehouse' };
    for (const notice of [1, 2, 3] as const) {
      const mail = renderNotice({ ...stopped, ...named, notice });
      expect(mail.subject).toContain('"Daily events → warehouse"');
      expect(mail.subject).not.toContain('daily-events');
      expect(mail.text).toContain('"Daily events → warehouse" (daily-events)');
    }
    const recovery = renderRecoveryNotice({ ...RECOVERED, displayName: 'Daily events → warehouse' });
    expect(recovery.subject).toBe('Your data export "Daily events → warehouse" works again');
    expect(renderNotice(base).subject).toBe('Action needed: your data export "daily-events" is failing');
  });

  it('escapes a hostile display name in the subject, the text and the HTML', () => {
    const displayName = '<b>x</b>"\r\nBcc: victim@example.com\u202e';
    for (const mail of [
      renderNotice({ ...base, displayName }),
      renderRecoveryNotice({ ...RECOVERED, displayName }),
    ]) {
      expect(mail.subject).not.toMatch(/[\r\n\u202e]/);
      expect(mail.html).not.toContain('<b>x</b>');
      expect(mail.html).toContain('&lt;b&gt;x&lt;/b&gt;&quot;');
      expect(mail.text).not.toMatch(/\nBcc:/);
    }
  });
});

const DESTINATION_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
  (code) => ERROR_CODES[code].kind === 'destination',
);
/** The generic refusal's words: only destinationRejected may say them. */
const GENERIC = 'Google Cloud Storage refused the export';

const RECOVERED: RecoveryFacts = {
  exportId: 'daily-events',
  recipient: base.recipient,
  destination: { ...base.destination!, principal: 'exporter@acme.iam.gserviceaccount.com' },
  errorCode: 'credentialsInvalid',
  firstFailureAt: FIRST,
  recoveredAt: hours(50),
  notices: [1, 2],
  delivered: { runs: 1, chunks: 5, caughtUp: 0 },
  fixUrl: base.fixUrl,
};

/**
 * The product documentation's sentences, asserted literally in every notice for the code (the recovery notice names
 * the headline of what was fixed only).
 */
const DOC_SENTENCES: Partial<Record<ErrorCode, { headline: string[]; body: string[] }>> = {
  credentialsInvalid: {
    headline: ['403 — Credentials are incorrect, GCP account is forbidden.'],
    body: ['Your Service Account Key has expired or is invalid.', 'Generate the Service Account key again'],
  },
  tokenExchangeRefused: {
    headline: ['403 — Credentials are incorrect, GCP account is forbidden.'],
    body: ['Your Service Account Key has expired or is invalid.', 'Generate the Service Account key again'],
  },
  forbidden: {
    headline: ['403 — Credentials are incorrect, GCP account is forbidden.'],
    body: ['roles/storage.objectCreator'],
  },
  missingPermissions: {
    headline: ['403 — Credentials are incorrect, GCP account is forbidden.'],
    body: [
      'Give the service account exporter@acme.iam.gserviceaccount.com the Storage Object Creator (roles/storage.objectCreator) and Storage Object Viewer (roles/storage.objectViewer) roles on the bucket acme-exports',
    ],
  },
  bucketNotFound: {
    headline: ['404 — The bucket acme-exports was not found.'],
    body: ['Check if the bucket name is the same as in GCP.', 'Bucket names must match exactly'],
  },
  retentionPolicyNotMet: {
    headline: ['403: retentionPolicyNotMet'],
    body: [
      'Go to Menu › Cloud Storage › Buckets.',
      'Go to the Protection tab.',
      'Check the Retention policy (for compliance) section.',
      'Click the Delete icon to delete the retention policy. If the Delete icon is not enabled, the retention policy is locked on the bucket.',
    ],
  },
  destinationDeleted: {
    headline: ['The integration this export writes to was deleted.'],
    body: ['Set up the integration again'],
  },
};

describe('notice e-mails: every destination error code × every notice', () => {
  const facts = (code: ErrorCode, notice: 1 | 2 | 3): NoticeFacts => ({
    ...(notice === 3 ? stopped : base),
    notice,
    errorCode: code,
    now: hours(notice === 1 ? 0 : notice === 2 ? 48 : 72),
    destination:
      code === 'destinationDeleted'
        ? undefined
        : { ...base.destination!, principal: 'exporter@acme.iam.gserviceaccount.com' },
  });

  it('knows the doc sentences of every code but the generic one', () => {
    expect(Object.keys(DOC_SENTENCES).sort()).toEqual(
      DESTINATION_CODES.filter((c) => c !== 'destinationRejected').sort(),
    );
  });

  describe.each(DESTINATION_CODES)('%s', (code) => {
    it.each([1, 2, 3] as const)('notice %s', (notice) => {
      const mail = renderNotice(facts(code, notice));
      expect(mail).toMatchSnapshot();
      const sentences = DOC_SENTENCES[code];
      for (const part of [mail.text, mail.html.replaceAll('&#39;', "'")]) {
        if (code === 'destinationRejected') expect(part).toContain(GENERIC);
        else expect(part).not.toContain(GENERIC);
        for (const sentence of [...(sentences?.headline ?? []), ...(sentences?.body ?? [])])
          expect(part).toContain(sentence);
      }
    });

    it('recovery notice', () => {
      const mail = renderRecoveryNotice({
        ...RECOVERED,
        errorCode: code,
        ...(code === 'destinationDeleted' ? { destination: undefined } : {}),
      });
      expect(mail).toMatchSnapshot();
      if (code === 'destinationRejected') expect(mail.text).toContain(GENERIC);
      else expect(mail.text).not.toContain(GENERIC);
      for (const sentence of DOC_SENTENCES[code]?.headline ?? []) expect(mail.text).toContain(sentence);
    });
  });
});

describe('the recovery notice', () => {
  it('says it works again, what was fixed and what was delivered since, and nothing internal', () => {
    const mail = renderRecoveryNotice(RECOVERED);
    expect(mail.subject).toBe('Your data export "daily-events" works again');
    expect(mail.text).toContain('works again since 2026-03-03 11:00 UTC: it will not stop.');
    expect(mail.text).toContain(
      'It had been failing since 2026-03-01 09:00 UTC with: 403 — Credentials are incorrect, GCP account is forbidden.',
    );
    expect(mail.text).toContain(
      '1 interrupted export continues where it stopped (5 parts of the data handed to the writers again).',
    );
    expect(mail.text).toContain('Nothing already delivered is written twice');
    expect(mail.text).not.toMatch(/chunk|plan|gs:\/\/platform/i);
  });

  it('after a restart of a stopped export: restarted, and the held exports delivered in order', () => {
    const mail = renderRecoveryNotice({
      ...RECOVERED,
      notices: [1, 2, 3],
      delivered: { runs: 2, chunks: 7, caughtUp: 3 },
    });
    expect(mail.text).toContain('was restarted on 2026-03-03 11:00 UTC and works again.');
    expect(mail.text).toContain(
      '3 exports that arrived while it was stopped are delivered now, in the order they arrived.',
    );
    expect(mail.text).toContain('2 interrupted exports continue where they stopped');
  });

  it('says so when nothing was waiting', () => {
    const mail = renderRecoveryNotice({ ...RECOVERED, delivered: { runs: 0, chunks: 0, caughtUp: 0 } });
    expect(mail.text).toContain('Nothing was waiting to be delivered.');
  });
});

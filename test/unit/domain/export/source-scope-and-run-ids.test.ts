import { rejectionDocSchema, runDocSchema } from '../../../../shared/domain/documents';
import { parseExportRequest } from '../../../../shared/domain/export-request';
import { legacyRunIdFor, runIdFor } from '../../../../shared/domain/ids';
import { planExport } from '../../../../shared/domain/export/plan-export';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, createHarness, eventLines } from '../../../support/local-harness';

const SCOPE = ['gs://platform-source/accounts/{accountId}/'];

describe('source scope per account (SOURCE_PREFIX_TEMPLATE)', () => {
  const base = {
    requestId: 'r',
    accountId: 'acct-a',
    exportId: 'e',
    destinationId: 'd',
    kind: 'events',
    window: { from: '2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z' },
    createdBy: { email: 'o@example.com', name: 'O' },
  };

  it('accepts sources under the account prefix', () => {
    const request = {
      ...base,
      source: {
        objects: ['gs://platform-source/accounts/acct-a/x.ndjson'],
        prefixes: ['gs://platform-source/accounts/acct-a/events/'],
      },
    };
    expect(parseExportRequest(request, { sourceScope: SCOPE })).toMatchObject({ ok: true });
  });

  it.each([
    [
      "another account's objects",
      { objects: ['gs://platform-source/accounts/acct-b/x.ndjson'] },
      'source.objects.0',
    ],
    [
      'an account whose id extends this one',
      { prefixes: ['gs://platform-source/accounts/acct-ab/'] },
      'source.prefixes.0',
    ],
    ['the whole bucket', { prefixes: ['gs://platform-source/'] }, 'source.prefixes.0'],
    [
      'another bucket the platform can read',
      { objects: ['gs://platform-secrets/accounts/acct-a/x'] },
      'source.objects.0',
    ],
  ])('rejects %s, naming the field', (_name, source, field) => {
    expect(parseExportRequest({ ...base, source }, { sourceScope: SCOPE })).toEqual({
      ok: false,
      violations: [`${field}: is outside the sources of account "acct-a"`],
    });
  });

  it('rejects an out-of-scope request when it is received, recording why, and starts no run', async () => {
    const h = await createHarness({ label: 'scope', settings: { sourceScope: SCOPE } });
    try {
      await h.publishAndDrain(h.request({ source: { prefixes: ['gs://platform-source/events/'] } }));
      const rejections = (await h.runtime.state.list('rejections')).map((r) =>
        rejectionDocSchema.parse(r.data),
      );
      expect(rejections.flatMap((r) => r.violations)).toEqual([
        `source.prefixes.0: is outside the sources of account "${ACCOUNT}"`,
      ]);
      expect(await h.runtime.state.list('runs')).toEqual([]);
    } finally {
      await h.dispose();
    }
  });

  it('refuses planning such a request too, with its code (for callers that skip the parse)', async () => {
    const h = await createHarness({ label: 'scope-plan', settings: { sourceScope: SCOPE } });
    try {
      await expect(planExport(h.runtime.ctx, h.request())).rejects.toMatchObject({
        code: 'sourceOutOfScope',
      });
    } finally {
      await h.dispose();
    }
  });
});

describe('run ids', () => {
  let h: Harness;
  afterEach(() => h.dispose());

  it('are 128 bits, and a request redelivered after the upgrade finds its run under the 12-digit id', async () => {
    h = await createHarness({ label: 'legacy-run' });
    await h.writeSource('events/a.ndjson', eventLines(100));
    const request = h.request();
    await h.publishAndDrain(request);
    const current = runIdFor(ACCOUNT, request.requestId);
    expect(current).toMatch(/^[0-9a-f]{32}$/);
    const state = h.runtime.state;
    const run = runDocSchema.parse(await state.get(`runs/${current}`));

    // A run as the previous release stored it: under the 12-digit id, and nowhere else.
    const legacy = legacyRunIdFor(ACCOUNT, request.requestId);
    await state.set(`runs/${legacy}`, { ...run, runId: legacy });
    await state.delete(`runs/${current}`);

    await h.publishAndDrain(request);
    expect(await state.get(`runs/${current}`)).toBeUndefined();
    expect(runDocSchema.parse(await state.get(`runs/${legacy}`))).toMatchObject({ status: 'succeeded' });
  });
});

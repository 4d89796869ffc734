import { routeApiRequest } from '../../../shared/api/router';
import { registerDestination } from '../../../shared/domain/destinations/manage-destinations';
import type { Harness } from '../../support/local-harness';
import { ACCOUNT, createHarness, DESTINATION_BUCKET, eventLines } from '../../support/local-harness';

/** docs/API.md: "A token the API did not issue is 400 invalidQuery." */
describe('page tokens of the management API', () => {
  let h: Harness;
  const get = async (path: string, query: Record<string, string> = {}) => {
    const answer = await routeApiRequest(h.runtime, {
      method: 'GET',
      path: `/v1/accounts/${path}`,
      query,
      body: undefined,
    });
    return answer as {
      status: number;
      body: { items?: unknown[]; nextPageToken?: string; error?: { code: string } };
    };
  };
  const destinationIds = (body: { items?: unknown[] }) =>
    (body.items as { destinationId: string }[]).map((d) => d.destinationId);

  beforeAll(async () => {
    h = await createHarness({ label: 'page-tokens' });
    for (const [account, id] of [
      [ACCOUNT, 'dest-2'],
      [ACCOUNT, 'dest-3'],
      ['acct-2', 'other-1'],
      ['acct-2', 'other-2'],
    ] as const)
      await registerDestination(h.runtime.destinationDeps, {
        accountId: account,
        destinationId: id,
        nickname: id,
        bucket: DESTINATION_BUCKET,
      });
    // More files than a run's first page holds (50): 60 event names.
    const names = Array.from({ length: 60 }, (_, i) => `event ${i}`);
    await h.writeSource('events/a.ndjson', eventLines(240, names));
    await h.publishAndDrain(h.request());
  });
  afterAll(() => h.dispose());

  it('pages through a list with the tokens it issued, every item once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await get(`${ACCOUNT}/destinations`, {
        pageSize: '1',
        ...(token ? { pageToken: token } : {}),
      });
      expect(page.status).toBe(200);
      seen.push(...destinationIds(page.body));
      token = page.body.nextPageToken;
    } while (token);
    expect(seen).toEqual(['dest-1', 'dest-2', 'dest-3']);
  });

  it.each([
    ['a hand-made base64url of a document id', () => Buffer.from(`${ACCOUNT}~dest-1`).toString('base64url')],
    [
      'a hand-made base64url of another account’s document id',
      () => Buffer.from('acct-2~other-1').toString('base64url'),
    ],
    ['not base64url at all', () => 'not-ours!'],
  ])('refuses %s with 400 invalidQuery', async (_name, token) => {
    const answer = await get(`${ACCOUNT}/destinations`, { pageToken: token() });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalidQuery' } } });
  });

  it('refuses a token it issued for another account, or for another list', async () => {
    const other = (await get('acct-2/destinations', { pageSize: '1' })).body.nextPageToken ?? '';
    expect(other).not.toBe('');
    expect(await get(`${ACCOUNT}/destinations`, { pageToken: other })).toMatchObject({ status: 400 });
    expect(await get(`acct-2/exports`, { pageToken: other })).toMatchObject({ status: 400 });
    expect(await get('acct-2/destinations', { pageToken: other })).toMatchObject({ status: 200 });
  });

  it('refuses a token it issued once one character is changed', async () => {
    const token = (await get(`${ACCOUNT}/destinations`, { pageSize: '1' })).body.nextPageToken ?? '';
    const at = Math.floor(token.length / 2);
    const changed = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    expect(await get(`${ACCOUNT}/destinations`, { pageToken: changed })).toMatchObject({ status: 400 });
  });

  it("continues a run's first page of files at …/runs/{runId}/files with the token the run answered", async () => {
    const exported = await get(`${ACCOUNT}/exports/daily-events/runs`);
    const runId = (exported.body.items as { runId: string }[])[0]?.runId ?? '';
    const all = await get(`${ACCOUNT}/runs/${runId}/files`, { pageSize: '200' });
    const run = await get(`${ACCOUNT}/runs/${runId}`);
    const first = (run.body as unknown as { files: { items: unknown[]; nextPageToken?: string } }).files;
    expect(first.nextPageToken).toBeDefined();
    const rest = await get(`${ACCOUNT}/runs/${runId}/files`, {
      pageSize: '200',
      pageToken: first.nextPageToken ?? '',
    });
    expect(rest.status).toBe(200);
    expect([...first.items, ...(rest.body.items ?? [])]).toEqual(all.body.items);
  });
});

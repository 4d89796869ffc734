import { etagOf } from '../../../shared/api/etags';
import { routeApiRequest } from '../../../shared/api/router';
import { ROUTES } from '../../../shared/api/routes';
import type { ApiRequest } from '../../../shared/api/router';
import type { Harness } from '../../support/local-harness';
import { ACCOUNT, createHarness, DESTINATION_BUCKET } from '../../support/local-harness';
import { serviceAccountKey } from '../../support/service-account-key';

/** The router's HTTP semantics: Location, ETag and If-Match, PATCH (merge patch), 405 with Allow, HEAD. */
describe('management API routing', () => {
  let h: Harness;
  const destinations = `/v1/accounts/${ACCOUNT}/destinations`;
  const send = (request: Omit<ApiRequest, 'body'> & { body?: unknown }) =>
    routeApiRequest(h.runtime, { body: undefined, ...request });
  const create = async (destinationId: string, nickname: string) => {
    const answer = await send({
      method: 'POST',
      path: destinations,
      body: { destinationId, nickname, bucket: DESTINATION_BUCKET, key: serviceAccountKey() },
    });
    expect(answer.status).toBe(201);
    return answer;
  };
  const read = (destinationId: string) => send({ method: 'GET', path: `${destinations}/${destinationId}` });
  const body = (answer: { body?: unknown }) => answer.body as Record<string, unknown>;

  beforeAll(async () => {
    h = await createHarness({ label: 'router' });
  });
  afterAll(() => h.dispose());

  it('answers a 201 with the Location of the resource created and the ETag its GET shows', async () => {
    const created = await create('dst-located', 'Located');
    expect(created.headers?.Location).toBe(`${destinations}/dst-located`);
    const got = await send({ method: 'GET', path: created.headers?.Location ?? '' });
    expect(got.status).toBe(200);
    expect(got.headers?.ETag).toMatch(/^"[\w-]+"$/);
    expect(created.headers?.ETag).toBe(got.headers?.ETag);
  });

  it('refuses a key rotation with a stale If-Match with 412 and leaves the key unchanged', async () => {
    await create('dst-rotated', 'Rotated');
    const before = await read('dst-rotated');
    const stale = before.headers?.ETag ?? '';
    const first = await send({
      method: 'PUT',
      path: `${destinations}/dst-rotated/key`,
      body: { key: serviceAccountKey() },
      ifMatch: stale,
    });
    expect(first.status).toBe(200);
    expect(first.headers?.ETag).not.toBe(stale);
    const after = await read('dst-rotated');
    expect(first.headers?.ETag).toBe(after.headers?.ETag);

    // A second writer that read before the first rotation.
    const second = await send({
      method: 'PUT',
      path: `${destinations}/dst-rotated/key`,
      body: { key: serviceAccountKey({ clientEmail: 'other-writer@proj-123.iam.gserviceaccount.com' }) },
      ifMatch: stale,
    });
    expect(second).toMatchObject({ status: 412, body: { error: { code: 'preconditionFailed' } } });
    expect(JSON.stringify(second.body)).not.toContain(stale.slice(1, -1));
    const unchanged = await read('dst-rotated');
    expect(unchanged.body).toEqual(after.body);
    expect(body(unchanged).key).toMatchObject({ version: 2 });
    expect(body(unchanged).key).not.toMatchObject({
      clientEmail: 'other-writer@proj-123.iam.gserviceaccount.com',
    });
  });

  it('honours If-Match on DELETE: a stale tag is 412 and the destination stays; the current one deletes', async () => {
    await create('dst-deleted', 'Deleted');
    const current = (await read('dst-deleted')).headers?.ETag ?? '';
    const path = `${destinations}/dst-deleted`;
    expect(await send({ method: 'DELETE', path, ifMatch: '"not-the-tag"' })).toMatchObject({ status: 412 });
    expect((await read('dst-deleted')).status).toBe(200);
    expect(await send({ method: 'DELETE', path, ifMatch: current })).toMatchObject({ status: 204 });
    expect((await read('dst-deleted')).status).toBe(404);
  });

  it('renames with a merge patch: the nickname stays unique per account and the old one is free again', async () => {
    await create('dst-renamed', 'Old name');
    await create('dst-other', 'Taken name');
    const path = `${destinations}/dst-renamed`;
    const tag = (await read('dst-renamed')).headers?.ETag ?? '';

    const taken = await send({ method: 'PATCH', path, body: { nickname: 'TAKEN NAME' } });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'nicknameTaken' } } });
    expect(await send({ method: 'PATCH', path, body: { nickname: 'New' }, ifMatch: '"x"' })).toMatchObject({
      status: 412,
    });
    expect(await send({ method: 'PATCH', path, body: { nickname: null } })).toMatchObject({ status: 400 });

    const renamed = await send({ method: 'PATCH', path, body: { nickname: 'New name' }, ifMatch: tag });
    expect(renamed).toMatchObject({
      status: 200,
      body: { nickname: 'New name', destinationId: 'dst-renamed' },
    });
    expect(renamed.headers?.ETag).toBe((await read('dst-renamed')).headers?.ETag);
    expect(body(await read('dst-renamed')).nickname).toBe('New name');
    // The old nickname is free, the new one is held.
    await create('dst-reuses-old', 'Old name');
    expect(
      await send({
        method: 'POST',
        path: destinations,
        body: { nickname: 'new NAME', bucket: DESTINATION_BUCKET, key: serviceAccountKey() },
      }),
    ).toMatchObject({ status: 409, body: { error: { code: 'nicknameTaken' } } });
    // An empty patch changes nothing.
    expect(await send({ method: 'PATCH', path, body: {} })).toMatchObject({
      status: 200,
      body: renamed.body,
    });
  });

  it('answers a method a resource does not take with 405 and its Allow header', async () => {
    const answer = await send({ method: 'PUT', path: destinations });
    expect(answer).toMatchObject({ status: 405, headers: { Allow: 'GET, POST, HEAD' } });
    expect(await send({ method: 'POST', path: `${destinations}/dst-located` })).toMatchObject({
      status: 405,
      headers: { Allow: 'GET, PATCH, DELETE, HEAD' },
    });
  });

  it('answers HEAD on every GET route as its GET', async () => {
    const head = await send({ method: 'HEAD', path: `${destinations}/dst-located` });
    const get = await read('dst-located');
    expect(head.status).toBe(200);
    expect(head.headers?.ETag).toBe(get.headers?.ETag);
  });

  it('replays the first 201 to a POST retried with the same Idempotency-Key instead of a 409', async () => {
    const request = {
      method: 'POST',
      path: destinations,
      idempotencyKey: 'retry-0f8fad5b',
      body: {
        destinationId: 'dst-retried',
        nickname: 'Retried',
        bucket: DESTINATION_BUCKET,
        key: serviceAccountKey(),
      },
    };
    const first = await send(request);
    expect(first.status).toBe(201);
    const retried = await send(request);
    expect(retried).toEqual({
      status: 201,
      headers: { ...first.headers, 'Idempotent-Replayed': 'true' },
      body: first.body,
    });
    // Without the key, the same POST is the conflict it always was.
    const { idempotencyKey: _key, ...plain } = request;
    expect(await send(plain)).toMatchObject({ status: 409, body: { error: { code: 'destinationExists' } } });
    // The same key with another body is 422, and creates nothing.
    const other = await send({ ...request, body: { ...request.body, destinationId: 'dst-other-body' } });
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'idempotencyKeyReused' } } });
    expect((await read('dst-other-body')).status).toBe(404);
    // Keys are scoped to the account: another account's identical key runs its own request.
    const elsewhere = await send({ ...request, path: '/v1/accounts/acct-other/destinations' });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.headers?.['Idempotent-Replayed']).toBeUndefined();
  });

  it('refuses an Idempotency-Key that is not 1-255 visible ASCII characters', async () => {
    expect(
      await send({
        method: 'POST',
        path: `${destinations}/dst-located/validate`,
        idempotencyKey: 'has space',
      }),
    ).toMatchObject({ status: 400, body: { error: { code: 'invalidIdempotencyKey' } } });
  });

  it("tags a run alike on every read: its files' freshly sealed page token is no part of its version", () => {
    const route = ROUTES.find((r) => r.method === 'GET' && r.path.endsWith('/runs/:runId'));
    const run = (token: string) => ({
      runId: 'r1',
      status: 'succeeded',
      files: { items: [], nextPageToken: token },
    });
    const tag = (token: string) => etagOf(route?.etag?.(run(token)));
    expect(tag('sealed-once')).toBe(tag('sealed-again'));
    expect(etagOf(route?.etag?.({ ...run('t'), status: 'failed' }))).not.toBe(tag('t'));
  });
});

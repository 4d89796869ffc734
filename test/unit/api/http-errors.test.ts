import { apiError } from '../../../shared/api/http-errors';
import { routeApiRequest } from '../../../shared/api/router';
import { ROUTES } from '../../../shared/api/routes';
import type { Harness } from '../../support/local-harness';
import { ACCOUNT, createHarness, DESTINATION_BUCKET } from '../../support/local-harness';
import { serviceAccountKey } from '../../support/service-account-key';

/**
 * docs/API.md: "no error repeats a value sent". Every value a request carries (path ids, query values, body values)
 * is a marker; no error answer may contain one.
 */
describe('API errors repeat no value sent', () => {
  let h: Harness;
  let n = 0;
  /** A fresh marker, valid wherever an id, a bucket name or a nickname is expected. */
  const marker = () => `zq${(n += 1)}markerx`;
  const errors: { request: string; status: number; text: string; markers: string[] }[] = [];

  const send = async (
    method: string,
    path: string,
    markers: string[],
    options: { query?: Record<string, string>; body?: unknown } = {},
  ) => {
    const answer = await routeApiRequest(h.runtime, {
      method,
      path,
      ...(options.query ? { query: options.query } : {}),
      body: options.body,
    });
    if (answer.status >= 400)
      errors.push({
        request: `${method} ${path}`,
        status: answer.status,
        text: JSON.stringify(answer.body),
        markers,
      });
    return answer;
  };

  beforeAll(async () => {
    h = await createHarness({ label: 'error-echo' });
  });
  afterAll(() => h.dispose());

  it('answers every route, with markers in every path id, query value and body field', async () => {
    for (const route of ROUTES) {
      const markers: string[] = [];
      const path = route.path.replace(/:(\w+)/g, () => {
        const m = marker();
        markers.push(m);
        return m;
      });
      const [q1, q2, q3, b1, b2, b3, b4, b5] = Array.from({ length: 8 }, marker);
      markers.push(q1, q2, q3, b1, b2, b3, b4, b5);
      // An unknown field is named in its violation (a name, not a value): its value is a marker.
      await send(route.method, path, markers, {
        query: { pageSize: q1, pageToken: q2, unknownParameter: q3 },
        body: { destinationId: b1, nickname: b2, bucket: b3, key: b4, unknownField: b5 },
      });
    }
  });

  it('answers the refusals that need state: an existing id, a taken nickname, a missing bucket', async () => {
    const [id, nickname, bucket] = [marker(), marker(), marker()];
    const key = serviceAccountKey();
    const account = `/v1/accounts/${ACCOUNT}/destinations`;
    expect(
      (
        await send('POST', account, [], {
          body: { destinationId: id, nickname, bucket: DESTINATION_BUCKET, key },
        })
      ).status,
    ).toBe(201);
    expect(
      await send('POST', account, [id], {
        body: { destinationId: id, nickname: marker(), bucket: DESTINATION_BUCKET, key },
      }),
    ).toMatchObject({ body: { error: { code: 'destinationExists' } } });
    expect(
      await send('POST', account, [nickname], { body: { nickname, bucket: DESTINATION_BUCKET, key } }),
    ).toMatchObject({ body: { error: { code: 'nicknameTaken' } } });
    expect(
      await send('POST', account, [bucket], { body: { nickname: marker(), bucket, key } }),
    ).toMatchObject({
      body: { error: { code: 'bucketNotFound' } },
    });
    const missing = marker();
    expect(await send('GET', `${account}/${missing}`, [missing])).toMatchObject({
      body: { error: { code: 'destinationNotFound' } },
    });
  });

  it('answers a method no route takes', async () => {
    const method = marker().toUpperCase();
    expect(await send(method, `/v1/accounts/${ACCOUNT}/destinations`, [method])).toMatchObject({
      status: 405,
      body: { error: { code: 'methodNotAllowed' } },
    });
  });

  it('no error answer holds a marker it was sent', () => {
    expect(errors.length).toBeGreaterThan(ROUTES.length);
    const echoes = errors.filter((e) => e.markers.some((m) => e.text.includes(m)));
    expect(echoes.map((e) => `${e.request} → ${e.status} ${e.text}`)).toEqual([]);
  });
});

describe('API errors are RFC 9457 problems', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ label: 'problems' });
  });
  afterAll(() => h.dispose());

  it('answers type, title, status, detail and instance, with code, violations and the former envelope kept', async () => {
    const answer = await routeApiRequest(h.runtime, {
      method: 'POST',
      path: `/v1/accounts/${ACCOUNT}/destinations`,
      body: { nickname: '', bucket: 'B!', key: '{}' },
    });
    const body = answer.body as Record<string, unknown>;
    expect(answer.status).toBe(400);
    expect(body).toMatchObject({
      type: 'urn:gcs-export:problem:invalidDestination',
      title: expect.any(String) as string,
      status: 400,
      detail: expect.any(String) as string,
      code: 'invalidDestination',
      violations: expect.arrayContaining([expect.stringMatching(/^nickname: /)]) as string[],
    });
    expect(body.instance).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    // Clients that read error.code keep working.
    expect(body.error).toEqual({
      status: 400,
      code: 'invalidDestination',
      message: body.detail,
      violations: body.violations,
    });
    // Each occurrence is its own instance.
    const again = await routeApiRequest(h.runtime, { method: 'GET', path: '/nowhere', body: undefined });
    expect((again.body as { instance: string }).instance).not.toBe(body.instance);
    expect(again.body).toMatchObject({ type: 'urn:gcs-export:problem:routeNotFound', status: 404 });
  });

  it('marks a destination problem with kind, as a member and in the former envelope', async () => {
    const answer = await routeApiRequest(h.runtime, {
      method: 'POST',
      path: `/v1/accounts/${ACCOUNT}/destinations`,
      body: { nickname: 'Nowhere', bucket: 'no-such-bucket-here', key: serviceAccountKey() },
    });
    expect(answer).toMatchObject({
      status: 422,
      body: {
        code: 'bucketNotFound',
        kind: 'destination',
        error: { code: 'bucketNotFound', kind: 'destination' },
      },
    });
  });
});

describe('503 answers', () => {
  it('say when to retry (Retry-After), and no other status does', () => {
    expect(apiError('destinationUnavailable', 'try again').headers).toEqual({ 'Retry-After': '30' });
    expect(apiError('invalidBody', 'no').headers).toBeUndefined();
  });
});

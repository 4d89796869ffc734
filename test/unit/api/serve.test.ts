import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { openApiDocument } from '../../../shared/api/openapi';
import { ROUTES } from '../../../shared/api/routes';
import { apiServer } from '../../../shared/cli/commands/serve';
import { openApiText } from '../../../shared/cli/commands/openapi';
import { callerVerifier } from '../../../shared/composition/callers';
import type { Harness } from '../../support/local-harness';
import {
  ACCOUNT,
  createHarness,
  DESTINATION,
  DESTINATION_BUCKET,
  eventLines,
} from '../../support/local-harness';
import { serviceAccountKey } from '../../support/service-account-key';

const TOKEN = 'serve-test-token-0123456789';

describe('the management API over HTTP on the local adapters (gcs-export serve)', () => {
  let h: Harness;
  let server: Server;
  let base: string;
  const call = async (
    method: string,
    route: string,
    options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const token = options.token === undefined ? TOKEN : options.token;
    const response = await fetch(`${base}${route}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined
        ? {}
        : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      type: response.headers.get('content-type'),
      body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> | undefined,
      text,
    };
  };
  const account = `/v1/accounts/${ACCOUNT}`;

  beforeAll(async () => {
    h = await createHarness({ label: 'serve', settings: { chunkTargetBytes: 64 * 1024 } });
    server = apiServer({ ...h.runtime, callers: callerVerifier({ bearerToken: TOKEN }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await h.writeSource('events/a.ndjson', eventLines(3000));
    await h.publishAndDrain(h.request());
    h.clock.advance(60_000);
    await h.publishAndDrain(
      h.request({
        requestId: 'req-missing',
        source: { objects: ['gs://platform-source/events/nope.ndjson'] },
      }),
    );
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.dispose();
  });

  it('answers GET /openapi.json without a token, and it is the checked-in docs/openapi.json', async () => {
    const answer = await call('GET', '/openapi.json', { token: null });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(openApiDocument());
    const checkedIn = readFileSync(path.join(__dirname, '../../../docs/openapi.json'), 'utf8');
    // Regenerate with `npm run docs:openapi` when this fails.
    expect(checkedIn).toBe(openApiText());
  });

  it('answers HEAD /openapi.json without a token: its headers, no body', async () => {
    const head = await call('HEAD', '/openapi.json', { token: null });
    expect(head).toMatchObject({ status: 200, text: '' });
    expect(head.headers.get('content-length')).toBe(
      String(Buffer.byteLength(JSON.stringify(openApiDocument()))),
    );
  });

  it.each([
    ['no token', null, 401, 'unauthenticated'],
    ['a wrong token', 'not-the-token-at-all', 401, 'unauthenticated'],
  ])('refuses %s with a JSON 401', async (_name, token, status, code) => {
    const answer = await call('GET', `${account}/destinations`, { token });
    expect(answer).toMatchObject({ status, body: { error: { code } } });
    expect(answer.type).toMatch(/^application\/problem\+json/);
  });

  it('serves every route of the api function (one route table)', async () => {
    const documented = Object.keys(openApiDocument().paths as object);
    for (const route of ROUTES) {
      expect(documented).toContain(route.path.replace(/:(\w+)/g, '{$1}'));
      const url = route.path.replace(':accountId', ACCOUNT).replace(/:(\w+)/g, 'none');
      const answer = await call(route.method, url, route.body ? { body: {} } : {});
      const code = (answer.body?.error as { code?: string } | undefined)?.code ?? 'none';
      expect(`${route.method} ${route.path}: ${code}`).not.toMatch(
        /: (routeNotFound|methodNotAllowed|unauthenticated)$/,
      );
    }
  });

  it('answers a malformed body with a JSON 400 that echoes nothing', async () => {
    const answer = await call('PUT', `${account}/destinations/${DESTINATION}/key`, {
      body: '{"key": {"private_key": "MARKER-SECRET-123", "x": 1,}}',
    });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalidBody' } } });
    expect(answer.text).not.toContain('MARKER');
    expect(JSON.stringify(h.logs)).not.toContain('MARKER');
  });

  it('calls a missing bucket folder "bucket not found"', async () => {
    const answer = await call('POST', `${account}/destinations`, {
      body: { nickname: 'Nowhere', bucket: 'no-such-folder', key: serviceAccountKey() },
    });
    expect(answer).toMatchObject({ status: 422, body: { error: { code: 'bucketNotFound' } } });
  });

  it('lists exports with health, an export with its recent runs, and its runs', async () => {
    const exports = await call('GET', `${account}/exports`);
    expect(exports.body).toMatchObject({
      items: [{ exportId: 'daily-events', health: { state: 'healthy' } }],
    });
    const one = await call('GET', `${account}/exports/daily-events`);
    const recent = (one.body as { recentRuns: { requestId: string; status: string }[] }).recentRuns;
    expect(recent.map((r) => [r.requestId, r.status])).toEqual([
      ['req-missing', 'failed'],
      ['req-1', 'succeeded'],
    ]);
    const runs = await call('GET', `${account}/exports/daily-events/runs?pageSize=1`);
    expect(runs.body).toMatchObject({ items: [{ requestId: 'req-missing' }] });
    expect(typeof runs.body?.nextPageToken).toBe('string');
  });

  it("pages through a run's files in chunk order, every file once, as the manifest lists them", async () => {
    const exportsPage = await call('GET', `${account}/exports/daily-events`);
    const runId = (
      exportsPage.body as { recentRuns: { runId: string; requestId: string }[] }
    ).recentRuns.find((r) => r.requestId === 'req-1')?.runId;
    const run = await call('GET', `${account}/runs/${runId}`);
    const body = run.body as { chunkCount: number; totals: { files: number }; files: { items: unknown[] } };
    expect(body.chunkCount).toBeGreaterThan(1);
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await call(
        'GET',
        `${account}/runs/${runId}/files?pageSize=7${token ? `&pageToken=${token}` : ''}`,
      );
      const files = page.body as { items: { name: string }[]; nextPageToken?: string };
      expect(files.items.length).toBeLessThanOrEqual(7);
      names.push(...files.items.map((f) => f.name));
      token = files.nextPageToken;
      pages += 1;
    } while (token);
    expect(names).toHaveLength(body.totals.files);
    expect(new Set(names).size).toBe(names.length);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(names.length / 7));
    const objects = await h.destinationObjects();
    const manifestName = [...objects.keys()].find((n) => n.endsWith(`${runId}/manifest.json`)) ?? '';
    const manifest = JSON.parse(objects.get(manifestName)?.toString() ?? '{}') as {
      files: { name: string }[];
    };
    expect(names.sort()).toEqual(manifest.files.map((f) => f.name).sort());
  });

  it('tells the customer why a run failed without naming platform-side locations', async () => {
    const exportsPage = await call('GET', `${account}/exports/daily-events`);
    const failed = (
      exportsPage.body as { recentRuns: { runId: string; requestId: string }[] }
    ).recentRuns.find((r) => r.requestId === 'req-missing');
    const run = await call('GET', `${account}/runs/${failed?.runId}`);
    expect(run.body).toMatchObject({ status: 'failed', failure: { code: 'sourceNotFound', kind: 'input' } });
    // What the platform recorded does name its bucket; what the customer reads does not.
    const stored = await h.runtime.state.get(`runs/${failed?.runId}`);
    expect((stored as { failure: { message: string } }).failure.message).toContain('gs://platform-source/');
    for (const text of [run.text, exportsPage.text, (await call('GET', `${account}/exports`)).text]) {
      expect(text).not.toContain('platform-source');
      expect(text).not.toContain('gs://');
    }
  });

  /** A request with its path sent exactly as written (fetch and URL would resolve its dot segments first). */
  const raw = (method: string, rawPath: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const { hostname, port } = new URL(base);
      const request = httpRequest(
        {
          hostname,
          port,
          method,
          path: rawPath,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  it.each([
    '/v1/accounts/other/destinations/%2e%2e/%2e%2e/acct-1/destinations/dest-1',
    '/v1/accounts/other/destinations/../../acct-1/destinations/dest-1',
    '/v1/accounts/acct-1/destinations/%2E',
    '/v1/accounts/acct-1/destinations/.',
    '/v1/accounts/acct-1%2Fdestinations',
    '/v1/accounts/acct-1/destinations/dest-1%5c..',
  ])('matches paths as received: %s is a 400 before any routing', async (rawPath) => {
    const answer = await raw('GET', rawPath);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'invalidPath' } });
    expect(answer.text).not.toContain('customer-bucket');
  });

  it('refuses a key object nested 4,500 levels deep with a 400, on create and on key rotation', async () => {
    const deep = `${'{"a":'.repeat(4500)}1${'}'.repeat(4500)}`;
    const create = await raw(
      'POST',
      `${account}/destinations`,
      `{"destinationId":"deep","nickname":"Deep","bucket":"customer-bucket","key":${deep}}`,
    );
    expect(create.status).toBe(400);
    expect(JSON.parse(create.text)).toMatchObject({ error: { code: 'invalidBody' } });
    const rotate = await raw('PUT', `${account}/destinations/${DESTINATION}/key`, `{"key":${deep}}`);
    expect(rotate.status).toBe(400);
    expect(rotate.text).not.toContain('"a"');
  });

  it('answers 405 with the methods the resource takes in Allow (RFC 9110), HEAD included where GET is', async () => {
    const put = await call('PUT', `${account}/destinations`, { body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD');
    const patch = await call('PATCH', `${account}/exports/nope/resume`);
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('POST');
  });

  it('answers HEAD as GET without the body, its length said', async () => {
    const get = await call('GET', `${account}/destinations`);
    const head = await call('HEAD', `${account}/destinations`);
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
    expect((await call('HEAD', `${account}/destinations/nope`)).status).toBe(404);
  });

  it('says where a created destination is (Location on 201), and it is there', async () => {
    const created = await call('POST', `${account}/destinations`, {
      body: {
        destinationId: 'located',
        nickname: 'Located',
        bucket: DESTINATION_BUCKET,
        key: serviceAccountKey(),
      },
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location');
    expect(location).toBe(`${account}/destinations/located`);
    const fetched = await call('GET', location ?? '');
    expect(fetched.status).toBe(200);
    expect(fetched.body?.nickname).toBe('Located');
  });

  it('speaks Idempotency-Key, ETag, If-Match and merge patches over HTTP', async () => {
    const creation = {
      body: {
        destinationId: 'dst-http',
        nickname: 'Over HTTP',
        bucket: DESTINATION_BUCKET,
        key: serviceAccountKey(),
      },
      headers: { 'idempotency-key': 'http-retry-1' },
    };
    const created = await call('POST', `${account}/destinations`, creation);
    expect(created.status).toBe(201);
    const retried = await call('POST', `${account}/destinations`, creation);
    expect(retried).toMatchObject({ status: 201, body: created.body });
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.headers.get('location')).toBe(created.headers.get('location'));
    const tag = created.headers.get('etag') ?? '';
    expect(tag).toMatch(/^"[\w-]+"$/);

    const path = `${account}/destinations/dst-http`;
    const head = await call('HEAD', path);
    expect(head).toMatchObject({ status: 200, text: '' });
    expect(head.headers.get('etag')).toBe(tag);

    const asJson = await call('PATCH', path, { body: { nickname: 'Renamed' } });
    expect(asJson).toMatchObject({ status: 415, body: { error: { code: 'unsupportedMediaType' } } });
    const patch = (ifMatch: string) =>
      call('PATCH', path, {
        body: { nickname: 'Renamed' },
        headers: { 'content-type': 'application/merge-patch+json', 'if-match': ifMatch },
      });
    expect(await patch('"stale"')).toMatchObject({
      status: 412,
      body: { error: { code: 'preconditionFailed' } },
    });
    const renamed = await patch(tag);
    expect(renamed).toMatchObject({ status: 200, body: { nickname: 'Renamed' } });
    expect(renamed.headers.get('etag')).not.toBe(tag);
    expect(renamed.headers.get('etag')).toBe((await call('GET', path)).headers.get('etag'));
  });
});

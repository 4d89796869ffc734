import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openApiDocument } from '../../../shared/api/openapi';
import type { Route } from '../../../shared/api/routes';
import { ROUTES } from '../../../shared/api/routes';
import { apiServer } from '../../../shared/cli/commands/serve';
import { callerVerifier } from '../../../shared/composition/callers';
import type { Harness } from '../../support/local-harness';
import { ACCOUNT, createHarness } from '../../support/local-harness';

const TOKEN = 'openapi-test-token-0123456789';

type Operations = Record<string, Record<string, { responses: Record<string, unknown> }>>;
const documented = () => openApiDocument().paths as Operations;
const template = (route: Route) => route.path.replace(/:(\w+)/g, '{$1}');

/** Requests every operation can be sent whatever the data: unknown ids, bad ids, bodies it does or does not take. */
function probes(route: Route): { name: string; path: string; init: RequestInit }[] {
  const params = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => name ?? '');
  const withIds = (bad?: string) =>
    route.path.replace(/:(\w+)/g, (_, name: string) =>
      name === bad ? '-not-an-id' : name === 'accountId' ? ACCOUNT : 'nope',
    );
  const json = route.mediaType ?? 'application/json';
  const auth = { authorization: `Bearer ${TOKEN}` };
  const bodyOf = (type: string, text: string): RequestInit => ({
    method: route.method,
    headers: { ...auth, 'content-type': type },
    body: text,
  });
  const plain = route.method === 'GET' || route.method === 'DELETE';
  return [
    { name: 'unknown ids', path: withIds(), init: { method: route.method, headers: auth } },
    { name: 'no token', path: withIds(), init: { method: route.method } },
    ...params.map((bad) => ({
      name: `${bad} failing its pattern`,
      path: withIds(bad),
      init: { method: route.method, headers: auth },
    })),
    ...(plain
      ? []
      : [
          { name: 'an empty JSON object', path: withIds(), init: bodyOf(json, '{}') },
          { name: 'a text body', path: withIds(), init: bodyOf('text/plain', 'hello') },
          { name: 'malformed JSON', path: withIds(), init: bodyOf(json, '{"a":') },
        ]),
  ];
}

describe('the OpenAPI document declares every answer the server gives', () => {
  let h: Harness;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    h = await createHarness({ label: 'openapi' });
    server = apiServer({ ...h.runtime, callers: callerVerifier({ bearerToken: TOKEN }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.dispose();
  });

  it('has one operation per route (HEAD for each GET) and no other', () => {
    const fromRoutes = ROUTES.flatMap((route) => [
      `${route.method} ${template(route)}`,
      ...(route.method === 'GET' ? [`HEAD ${template(route)}`] : []),
    ]);
    const fromDocument = Object.entries(documented())
      .filter(([path]) => path !== '/openapi.json')
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(fromDocument.sort()).toEqual(fromRoutes.sort());
  });

  it('walks the route table: each answer to each probe is a status its operation declares', async () => {
    const undeclared: string[] = [];
    for (const route of ROUTES) {
      const methods = route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
      for (const method of methods) {
        const declared = Object.keys(documented()[template(route)]?.[method.toLowerCase()]?.responses ?? {});
        for (const probe of probes(route)) {
          const answer = await fetch(`${base}${probe.path}`, { ...probe.init, method });
          await answer.arrayBuffer();
          if (!declared.includes(String(answer.status)))
            undeclared.push(`${method} ${route.path} with ${probe.name}: ${answer.status}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('answers the same case the same way: an unknown export has no runs list, as an unknown run has no files', async () => {
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    const runs = await fetch(`${base}/v1/accounts/${ACCOUNT}/exports/nope/runs`, auth);
    const files = await fetch(`${base}/v1/accounts/${ACCOUNT}/runs/nope/files`, auth);
    expect([runs.status, files.status]).toEqual([404, 404]);
    expect(await runs.json()).toMatchObject({ error: { code: 'exportNotFound' } });
    expect(await files.json()).toMatchObject({ error: { code: 'runNotFound' } });
  });

  it('documents pageSize as the server takes it: an integer from 1 to 200', async () => {
    const list = documented()['/v1/accounts/{accountId}/destinations']?.get as unknown as {
      parameters: { name: string; schema: Record<string, unknown> }[];
    };
    const schema = list.parameters.find((p) => p.name === 'pageSize')?.schema;
    expect(schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    const statusOf = async (query: string) =>
      (
        await fetch(`${base}/v1/accounts/${ACCOUNT}/destinations?${query}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).status;
    expect(
      await Promise.all(
        ['pageSize=1', 'pageSize=200', 'pageSize=0', 'pageSize=201', 'pageSize=x'].map(statusOf),
      ),
    ).toEqual([200, 200, 400, 400, 400]);
  });

  it('names pageToken, not pageSize, when the token is empty', async () => {
    const answer = await fetch(`${base}/v1/accounts/${ACCOUNT}/destinations?pageToken=`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(answer.status).toBe(400);
    const text = await answer.text();
    expect(text).toContain('pageToken');
    expect(text).not.toContain('pageSize');
  });

  it('declares Retry-After on every 503', () => {
    const without = Object.entries(documented()).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => {
        const unavailable = op.responses['503'] as { headers?: Record<string, unknown> } | undefined;
        return unavailable && !unavailable.headers?.['Retry-After'] ? [`${method} ${path}`] : [];
      }),
    );
    expect(without).toEqual([]);
  });
});

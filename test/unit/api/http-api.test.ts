import { Readable } from 'node:stream';
import { serveApiHttp } from '../../../shared/api/http-api';
import type { ApiRole } from '../../../shared/ports/api-callers.port';
import type { Harness } from '../../support/local-harness';
import { ACCOUNT, createHarness } from '../../support/local-harness';

/** The HTTP face of the API, with a caller of the roles given (the verifiers themselves have their own tests). */
describe('serveApiHttp: roles', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ label: 'http-api' });
  });
  afterAll(() => h.dispose());

  const as = (roles: ApiRole[]) => (method: string, url: string) =>
    serveApiHttp(
      {
        ...h.runtime,
        callers: {
          verify: () =>
            Promise.resolve({
              ok: true as const,
              caller: { kind: 'service-account' as const, id: 'x', roles },
            }),
        },
      },
      { method, url, headers: { authorization: 'Bearer t' }, body: Readable.from([]) },
    );

  it('lets only operators (API_OPERATORS) re-wrap keys, and only the platform use account routes', async () => {
    const platform = as(['platform']);
    const operator = as(['operator']);
    const rewrap = await platform('POST', '/v1/admin/keys/rewrap');
    expect(rewrap.status).toBe(403);
    expect(JSON.parse(rewrap.body ?? '{}')).toMatchObject({ code: 'callerForbidden' });
    expect((await operator('POST', '/v1/admin/keys/rewrap')).status).toBe(200);
    expect((await operator('GET', `/v1/accounts/${ACCOUNT}/destinations`)).status).toBe(403);
    expect((await platform('GET', `/v1/accounts/${ACCOUNT}/destinations`)).status).toBe(200);
  });
});

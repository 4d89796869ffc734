import { SettableClock } from '../../../../shared/adapters/clocks';
import { IamCallFailed, IamPrincipals } from '../../../../shared/adapters/gcp/iam-principals';
import type { GcsServer } from '../../../support/gcs-server';
import { startGcsServer } from '../../../support/gcs-server';

const spec = (id: string) => ({ projectId: 'principals-test', id, displayName: `account ${id}` });

describe('IamPrincipals (IAM and IAM Credentials over REST) on the test server', () => {
  let server: GcsServer;
  let clock: SettableClock;
  let principals: IamPrincipals;
  beforeAll(async () => {
    server = await startGcsServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    clock = new SettableClock(new Date());
    principals = new IamPrincipals({ clock, emulatorUrl: server.url });
    server.principals.iam.refuseImpersonation = false;
  });

  it('creates a principal once: a second ensure (409 ALREADY_EXISTS) answers the same e-mail', async () => {
    const email = await principals.ensure(spec('gxcreateonce'));
    expect(email).toBe('gxcreateonce@principals-test.iam.gserviceaccount.com');
    expect(await principals.ensure(spec('gxcreateonce'))).toBe(email);
    expect(server.principals.iam.serviceAccounts.get(email)).toEqual({
      projectId: 'principals-test',
      displayName: 'account gxcreateonce',
    });
  });

  it('mints one token per principal and reuses it until five minutes before it expires; callers at once share one call', async () => {
    const email = await principals.ensure(spec('gxcachedtoken'));
    const calls = () => server.principals.iam.impersonations.filter((i) => i.email === email).length;
    const [first, same] = await Promise.all([principals.mintToken(email), principals.mintToken(email)]);
    expect(same.token).toBe(first.token);
    expect(await principals.mintToken(email)).toEqual(first);
    expect(calls()).toBe(1);
    clock.set(new Date(first.expiresAt.getTime() - 6 * 60_000));
    expect((await principals.mintToken(email)).token).toBe(first.token);
    clock.set(new Date(first.expiresAt.getTime() - 4 * 60_000));
    const renewed = await principals.mintToken(email);
    expect(renewed.token).not.toBe(first.token);
    expect(calls()).toBe(2);
    expect(principals.minted).toBe(2);
  });

  it('fails without caching when IAM refuses to impersonate or the principal does not exist', async () => {
    const email = await principals.ensure(spec('gxrefusedonce'));
    server.principals.iam.refuseImpersonation = true;
    await expect(principals.mintToken(email)).rejects.toMatchObject({ status: 403 });
    server.principals.iam.refuseImpersonation = false;
    await expect(principals.mintToken(email)).resolves.toMatchObject({
      token: expect.any(String) as unknown,
    });
    await expect(
      principals.mintToken('gxneverexisted@principals-test.iam.gserviceaccount.com'),
    ).rejects.toBeInstanceOf(IamCallFailed);
  });

  it('creates principals as the principal-creator identity (PRINCIPAL_CREATOR), with a token minted for it', async () => {
    const creator = await principals.ensure(spec('gxcreatoridentity'));
    const asCreator = new IamPrincipals({ clock, emulatorUrl: server.url, creator });
    const email = await asCreator.ensure(spec('gxmadebycreator'));
    expect(server.principals.iam.impersonations.filter((i) => i.email === creator)).toEqual([
      { email: creator, granted: true },
    ]);
    const created = server.requests.filter(
      (r) => r.method === 'POST' && r.path === '/v1/projects/principals-test/serviceAccounts',
    );
    expect(created.at(-1)?.principal).toBe(creator);
    expect(server.principals.iam.serviceAccounts.has(email)).toBe(true);
  });

  it('calls IAM with the platform credentials outside emulators, and refuses to call without them', async () => {
    const noCredentials = new IamPrincipals({
      clock,
      auth: { getAccessToken: () => Promise.resolve(null) },
    });
    await expect(noCredentials.ensure(spec('gxnocredentials'))).rejects.toMatchObject({ status: 401 });
  });
});

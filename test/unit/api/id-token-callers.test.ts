import { IdTokenCallers } from '../../../shared/adapters/gcp/id-token-callers';
import type { LocalGoogle } from '../../support/id-tokens';
import { startLocalGoogle } from '../../support/id-tokens';

const PLATFORM = 'platform@acme-exports.iam.gserviceaccount.com';
const AUDIENCE = 'https://api-abc123-uc.a.run.app';
const OPERATOR = 'operator@acme-exports.iam.gserviceaccount.com';

describe('IdTokenCallers (google-auth-library against locally published certificates)', () => {
  let google: LocalGoogle;
  let callers: IdTokenCallers;
  beforeAll(async () => {
    google = await startLocalGoogle();
    callers = new IdTokenCallers({
      emails: [PLATFORM],
      operators: [OPERATOR],
      audience: AUDIENCE,
      certsUrl: google.certsUrl,
    });
  });
  afterAll(() => google.close());

  const bearer = (token: string) => `Bearer ${token}`;

  it('accepts an ID token of a configured service account, minted for this API', async () => {
    expect(await callers.verify(bearer(google.idToken({ email: PLATFORM, audience: AUDIENCE })))).toEqual({
      ok: true,
      caller: { kind: 'service-account', id: PLATFORM, roles: ['platform'] },
    });
  });

  it('accepts an operator (API_OPERATORS) with the operator role only', async () => {
    expect(await callers.verify(bearer(google.idToken({ email: OPERATOR, audience: AUDIENCE })))).toEqual({
      ok: true,
      caller: { kind: 'service-account', id: OPERATOR, roles: ['operator'] },
    });
  });

  it('refuses a valid token of a service account that is not configured (403, not 401)', async () => {
    const other = 'someone@other-project.iam.gserviceaccount.com';
    expect(await callers.verify(bearer(google.idToken({ email: other, audience: AUDIENCE })))).toMatchObject({
      ok: false,
      reason: 'forbidden',
    });
  });

  it.each([
    ['no Authorization header', () => undefined],
    [
      'a token minted for another audience',
      () => bearer(google.idToken({ email: PLATFORM, audience: 'https://other.run.app' })),
    ],
    [
      'an expired token',
      () =>
        bearer(
          google.idToken({ email: PLATFORM, audience: AUDIENCE, exp: Math.floor(Date.now() / 1000) - 600 }),
        ),
    ],
    [
      'a token signed by another key',
      () => bearer(google.foreignToken({ email: PLATFORM, audience: AUDIENCE })),
    ],
    [
      'a token of another issuer',
      () => bearer(google.idToken({ email: PLATFORM, audience: AUDIENCE, iss: 'https://evil.example.com' })),
    ],
    [
      'an unverified e-mail',
      () => bearer(google.idToken({ email: PLATFORM, audience: AUDIENCE, email_verified: false })),
    ],
    ['a token that is not a JWT', () => bearer('not-a-jwt')],
  ])('refuses %s as unauthenticated', async (_name, header) => {
    expect(await callers.verify(header())).toMatchObject({ ok: false, reason: 'unauthenticated' });
  });
});

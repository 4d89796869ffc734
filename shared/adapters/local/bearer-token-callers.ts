import { createHash, timingSafeEqual } from 'node:crypto';
import type { CallerCheck, CallerVerifier } from '../../ports/api-callers.port';
import { bearerToken } from '../../ports/api-callers.port';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** One shared bearer token (`gcs-export serve`, emulated setups), compared in constant time; it has every role. */
export class BearerTokenCallers implements CallerVerifier {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  verify(authorization: string | undefined): Promise<CallerCheck> {
    const token = bearerToken(authorization);
    if (token !== undefined && timingSafeEqual(digest(token), this.expected))
      return Promise.resolve({
        ok: true,
        caller: { kind: 'bearer', id: 'bearer', roles: ['platform', 'operator'] },
      });
    return Promise.resolve({
      ok: false,
      reason: 'unauthenticated',
      detail: token === undefined ? 'no bearer token' : 'wrong bearer token',
    });
  }
}

/** No caller is configured: the API stays closed rather than open. */
export const noCallers: CallerVerifier = {
  verify: () =>
    Promise.resolve({
      ok: false,
      reason: 'unauthenticated',
      detail: 'no API caller is configured (API_ALLOWED_CALLERS or GCS_EXPORT_API_TOKEN)',
    }),
};

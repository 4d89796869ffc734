import { StorageFailure, TOKEN_REFUSED } from '../../ports/bucket-store.port';
import { z } from '../../domain/zod';

/** The shapes the Storage client's errors come in: ApiError (JSON API), GaxiosError (token endpoint), system errors. */
const apiErrorSchema = z.object({
  code: z.number().int(),
  message: z.string().optional(),
  errors: z.array(z.object({ reason: z.string().optional() }).loose()).optional(),
});
const oauthErrorSchema = z.object({
  response: z.object({
    status: z.number().int(),
    data: z.object({ error: z.string(), error_description: z.string().optional() }).loose(),
  }),
});
const systemErrorSchema = z.object({ code: z.string(), message: z.string().optional() });

/**
 * Translates a client error into the port's vocabulary (HTTP status and GCS reason). Network failures get status
 * 0, which the domain retries. Messages never include request bodies or credentials.
 */
export function toStorageFailure(error: unknown, what: string): StorageFailure {
  if (error instanceof StorageFailure) return error;
  const oauth = oauthErrorSchema.safeParse(error);
  if (oauth.success) {
    // A revoked or deleted key fails at the token endpoint (invalid_grant), before any Storage call. Only an
    // overloaded endpoint is worth retrying; every other answer is a refusal the customer must fix.
    const { status, data } = oauth.data.response;
    const retryable = status === 429 || status >= 500;
    return new StorageFailure(
      retryable ? status : 401,
      retryable ? data.error : TOKEN_REFUSED,
      `${what}: token request refused (${data.error})`,
      { cause: error },
    );
  }
  const api = apiErrorSchema.safeParse(error);
  if (api.success && api.data.code >= 100) {
    const reason = api.data.errors?.[0]?.reason ?? 'unknown';
    return new StorageFailure(
      api.data.code,
      reason,
      `${what}: ${api.data.message ?? `HTTP ${api.data.code}`}`,
      {
        cause: error,
      },
    );
  }
  const system = systemErrorSchema.safeParse(error);
  if (system.success) {
    return new StorageFailure(0, system.data.code, `${what}: ${system.data.message ?? system.data.code}`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StorageFailure(0, 'unknown', `${what}: ${message}`, { cause: error });
}

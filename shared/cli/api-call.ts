import { routeApiRequest } from '../api/router';
import { isErrorCode } from '../domain/error-codes';
import { ExportError } from '../domain/errors';
import type { ServiceRuntime } from '../handlers/service-runtime';
import { z } from '../domain/zod';

/** The RFC 9457 problem the API answers (the members this client reads). */
const errorBodySchema = z.object({
  code: z.string(),
  detail: z.string(),
  violations: z.array(z.string()).optional(),
});

/**
 * Calls one route of the management API in-process, exactly as the api function and `gcs-export serve` run it (the
 * caller is the operator at the terminal). A refusal becomes the ExportError it stands for, so the CLI prints its
 * message and exits 1.
 */
export async function callApi(
  runtime: ServiceRuntime,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: { query?: Record<string, string | undefined>; body?: unknown; ifMatch?: string } = {},
): Promise<unknown> {
  return (await callApiAnswer(runtime, method, path, options)).body;
}

/** callApi with the answer's headers (ETag, Location). */
export async function callApiAnswer(
  runtime: ServiceRuntime,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: { query?: Record<string, string | undefined>; body?: unknown; ifMatch?: string } = {},
): Promise<{ body: unknown; headers: Record<string, string> }> {
  const query = Object.fromEntries(
    Object.entries(options.query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const response = await routeApiRequest(runtime, {
    method,
    path,
    query,
    body: options.body,
    ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
  });
  if (response.status < 400) return { body: response.body, headers: response.headers ?? {} };
  const parsed = errorBodySchema.safeParse(response.body);
  const code = parsed.success && isErrorCode(parsed.data.code) ? parsed.data.code : 'unexpected';
  const message = parsed.success ? parsed.data.detail : `the API answered ${response.status}`;
  throw new ExportError(code, message, parsed.success ? { violations: parsed.data.violations } : {});
}

/** `/v1/accounts/{account}/…` with each segment encoded. */
export const accountPath = (accountId: string, ...segments: string[]): string =>
  ['/v1/accounts', accountId, ...segments].map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join('/');

import type { ServiceRuntime } from '../handlers/service-runtime';
import { idSchema } from '../domain/ids';
import type { ApiResponse } from './http-errors';
import { apiError, errorResponse } from './http-errors';
import { ROUTES } from './routes';

export interface ApiRequest {
  method: string;
  path: string;
  body: unknown;
}

const ACCOUNT_PREFIX = /^\/v1\/accounts\/([^/]+)\/(.+?)\/?$/;

/** A path segment decoded, or undefined when its percent-encoding is malformed. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = decoded(got[i] ?? '');
    if (value === undefined) return undefined;
    if (segment.startsWith(':')) {
      if (!idSchema.safeParse(value).success) return undefined;
      params[segment.slice(1)] = value;
    } else if (segment !== value) return undefined;
  }
  return params;
}

const notFound = (message: string): ApiResponse => apiError('routeNotFound', message);

/** Routes one HTTP request of the management API; never throws. */
export async function routeApiRequest(runtime: ServiceRuntime, request: ApiRequest): Promise<ApiResponse> {
  const scoped = ACCOUNT_PREFIX.exec(request.path);
  const accountId = scoped?.[1] ? decoded(scoped[1]) : undefined;
  if (!scoped || !accountId || !idSchema.safeParse(accountId).success)
    return notFound('no such resource; paths start with /v1/accounts/{accountId}/');
  const rest = scoped[2] ?? '';
  const candidates = ROUTES.map((route) => ({ route, params: match(route.pattern, rest) })).filter(
    (c) => c.params !== undefined,
  );
  if (candidates.length === 0) return notFound(`no such resource: ${rest}`);
  const chosen = candidates.find((c) => c.route.method === request.method);
  if (!chosen?.params) {
    return apiError('methodNotAllowed', `${request.method} is not allowed here`);
  }
  const log = runtime.ctx.logger.child({
    accountId,
    route: `${chosen.route.method} ${chosen.route.pattern}`,
  });
  try {
    return await chosen.route.handle(runtime, accountId, chosen.params, request.body);
  } catch (error) {
    return errorResponse(error, log);
  }
}

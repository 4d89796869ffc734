import type { ServiceRuntime } from '../handlers/service-runtime';
import { idSchema } from '../domain/ids';

import { inputError } from '../domain/errors';
import type { ErrorCodeOf } from '../domain/error-codes';
import { parseWithSchema } from '../domain/schema';
import type { z } from '../domain/zod';
import type { ApiResponse } from './http-errors';
import { MAX_BODY_DEPTH, nestedDeeperThan } from './request-body';
import { apiError, errorResponse } from './http-errors';
import { etagOf } from './etags';
import { IdempotencyRecords, idempotencyKeySchema, requestHashOf } from '../domain/idempotency';
import type { Logger } from '../ports/logger.port';
import type { Route } from './routes';
import { ROUTES } from './routes';

export interface ApiRequest {
  method: string;
  path: string;
  /** Query parameters; a repeated one keeps its last value. */
  query?: Record<string, string>;
  body: unknown;
  /** The If-Match header, when sent. */
  ifMatch?: string;
  /** The Idempotency-Key header, when sent (POST only; ignored on other methods). */
  idempotencyKey?: string;
}

/** A path segment decoded, or undefined when its percent-encoding is malformed. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The route's parameters when `path` has its shape (its fixed segments, as many segments), else undefined. A
 * parameter that is not a valid id is still a match: the caller answers 400 invalidPath, as the document declares.
 */
function match(route: Route, path: string): Record<string, string> | undefined {
  const want = route.path.split('/');
  const got = path.replace(/\/$/, '').split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = decoded(got[i] ?? '');
    if (value === undefined) return undefined;
    if (segment.startsWith(':')) params[segment.slice(1)] = value;
    else if (segment !== value) return undefined;
  }
  return params;
}

const isId = (value: string): boolean => idSchema.safeParse(value).success;
const idRule = idSchema.safeParse('').error?.issues[0]?.message ?? 'must be an id';

export interface FoundRoute {
  route: Route;
  params: Record<string, string>;
}

/**
 * Paths are matched as received: a segment that is, or decodes to, `.` or `..`, or that holds an encoded slash or
 * backslash, is refused before any routing, so that no proxy, log or audit reasoning by path prefix is misled.
 */
function unsafePath(path: string): boolean {
  return path.split('/').some((segment) => {
    if (/%(2f|5c)/i.test(segment)) return true;
    // A malformed percent-encoding matches no route (404); only dot segments and encoded slashes are refused here.
    const value = decoded(segment);
    return value === '.' || value === '..';
  });
}

/** The route and its parameters for a request, or the 400/404/405 answer. */
export function findRoute(method: string, path: string): FoundRoute | ApiResponse {
  if (unsafePath(path))
    return apiError('invalidPath', 'the path has a dot segment or an encoded slash; send it without');
  const shaped = ROUTES.flatMap((route) => {
    const params = match(route, path);
    return params ? [{ route, params }] : [];
  });
  if (shaped.length === 0)
    return apiError('routeNotFound', 'no such resource; paths start with /v1/accounts/{accountId}/');
  const candidates = shaped.filter(({ params }) => Object.values(params).every(isId));
  // The path names an operation of the document, with a parameter that fails its pattern: 400, never 404.
  if (candidates.length === 0) return apiError('invalidPath', `a path parameter is not an id: it ${idRule}`);
  // HEAD is GET without the body (RFC 9110 §9.3.2): the transport drops the body.
  const asked = method === 'HEAD' ? 'GET' : method;
  const found = candidates.find((c) => c.route.method === asked);
  if (found) return found;
  const allowed = allowedMethods(candidates.map((c) => c.route.method));
  // RFC 9110 §15.5.6: a 405 lists the methods the resource takes in Allow.
  return {
    ...apiError('methodNotAllowed', `this resource takes ${allowed.join(', ')} only`),
    headers: { Allow: allowed.join(', ') },
  };
}

/** The methods of a resource as Allow lists them: HEAD wherever GET is. */
export const allowedMethods = (methods: readonly string[]): string[] =>
  methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];

function parseInput<T>(
  schema: z.ZodType<T> | undefined,
  value: unknown,
  code: ErrorCodeOf<'input'>,
): T | undefined {
  if (!schema) return undefined;
  if (nestedDeeperThan(value, MAX_BODY_DEPTH))
    throw inputError(
      code,
      `the ${code === 'invalidQuery' ? 'query' : 'body'} nests deeper than ${MAX_BODY_DEPTH} levels`,
    );
  const parsed = parseWithSchema(schema, value);
  if (!parsed.ok) throw inputError(code, parsed.violations.join('; '), { violations: parsed.violations });
  return parsed.value;
}

/**
 * Routes one request of the management API (already authenticated): parses its query and body with the route's
 * schemas, runs it, and shapes the answer with the route's response schema, so that only documented fields leave.
 * Never throws.
 */
export async function routeApiRequest(runtime: ServiceRuntime, request: ApiRequest): Promise<ApiResponse> {
  const found = findRoute(request.method, request.path);
  return 'route' in found ? runRoute(runtime, found, request) : found;
}

/** Runs a route already found for the request (the HTTP transport finds it before it reads the body). */
export async function runRoute(
  runtime: ServiceRuntime,
  found: FoundRoute,
  request: Pick<ApiRequest, 'query' | 'body' | 'ifMatch' | 'idempotencyKey'>,
): Promise<ApiResponse> {
  const { route, params } = found;
  const log = runtime.ctx.logger.child({
    ...(params.accountId ? { accountId: params.accountId } : {}),
    route: `${route.method} ${route.path}`,
  });
  if (route.method === 'POST' && request.idempotencyKey !== undefined)
    return idempotent(runtime, found, request, log);
  return runOnce(runtime, found, request, log);
}

/**
 * A POST with an Idempotency-Key: the first successful answer for the key (in its account, for 24 hours) is
 * remembered and replayed to a retry of the same request; the key sent with another request is 422. Failed answers
 * are not remembered: a retry runs again.
 */
async function idempotent(
  runtime: ServiceRuntime,
  found: FoundRoute,
  request: Pick<ApiRequest, 'query' | 'body' | 'ifMatch' | 'idempotencyKey'>,
  log: Logger,
): Promise<ApiResponse> {
  const key = idempotencyKeySchema.safeParse(request.idempotencyKey);
  if (!key.success)
    return apiError('invalidIdempotencyKey', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  const records = new IdempotencyRecords(runtime.ctx);
  const scope = found.params.accountId === undefined ? 'operators' : `account:${found.params.accountId}`;
  const hash = requestHashOf(found.route.method, JSON.stringify([found.route.path, found.params]), {
    query: request.query ?? {},
    body: request.body ?? {},
  });
  try {
    const replayed = await records.replay(scope, key.data, hash);
    if (replayed)
      return {
        status: replayed.status,
        headers: { ...replayed.headers, 'Idempotent-Replayed': 'true' },
        ...(replayed.body === undefined ? {} : { body: JSON.parse(replayed.body) as unknown }),
      };
  } catch (error) {
    return errorResponse(error, log);
  }
  const answer = await runOnce(runtime, found, request, log);
  if (answer.status >= 200 && answer.status < 300) {
    try {
      await records.remember(scope, key.data, hash, {
        status: answer.status,
        headers: answer.headers ?? {},
        ...(answer.body === undefined ? {} : { body: JSON.stringify(answer.body) }),
      });
    } catch (error) {
      // The answer stands; a retry then runs again (and a create answers 409), as without a key.
      log.warn('idempotency record not saved', { error: error instanceof Error ? error.name : 'unknown' });
    }
  }
  return answer;
}

async function runOnce(
  runtime: ServiceRuntime,
  { route, params }: FoundRoute,
  request: Pick<ApiRequest, 'query' | 'body' | 'ifMatch'>,
  log: Logger,
): Promise<ApiResponse> {
  try {
    const query = parseInput(route.query, request.query ?? {}, 'invalidQuery') ?? {};
    const body = parseInput(route.body, request.body ?? {}, route.bodyError ?? 'invalidBody');
    const result = await route.handle(runtime, {
      params,
      query: query as Record<string, string | undefined>,
      body,
      ...(request.ifMatch === undefined ? {} : { ifMatch: request.ifMatch }),
    });
    const { schema } = route.ok;
    const shaped: unknown = schema ? schema.parse(result) : undefined;
    const location = route.ok.location?.(params, shaped);
    const headers: Record<string, string> = {
      ...(location === undefined ? {} : { Location: location }),
      ...(route.etag && schema ? { ETag: etagOf(route.etag(shaped)) } : {}),
    };
    return {
      status: route.ok.status,
      ...(schema ? { body: shaped } : {}),
      ...(Object.keys(headers).length === 0 ? {} : { headers }),
    };
  } catch (error) {
    return errorResponse(error, log);
  }
}

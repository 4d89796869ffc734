import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ServiceRuntime } from '../handlers/service-runtime';
import { logEvent } from '../domain/log-events';
import type { ApiResponse } from './http-errors';
import { apiError, PROBLEM_JSON } from './http-errors';
import { openApiDocument } from './openapi';
import { hasBody, readJsonBody } from './request-body';
import { findRoute, runRoute } from './router';

/** An HTTP request as both transports see it: the Functions Framework (api function) and `gcs-export serve`. */
export interface ApiHttpRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body, not read yet: read only after the caller is verified, and only up to the limit. */
  body: Readable;
}

export interface ApiHttpResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or undefined for 204. */
  body?: string;
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

function answer(response: ApiResponse, extra: Record<string, string> = {}): ApiHttpResponse {
  const type = response.status >= 400 ? { 'Content-Type': `${PROBLEM_JSON}; charset=utf-8` } : {};
  return {
    status: response.status,
    headers: { ...JSON_HEADERS, ...type, ...response.headers, ...extra },
    ...(response.body === undefined ? {} : { body: JSON.stringify(response.body) }),
  };
}

/** HEAD answers as GET would, without the body (its length still said). */
function headOnly(response: ApiHttpResponse): ApiHttpResponse {
  const { body, ...rest } = response;
  return body === undefined
    ? rest
    : { ...rest, headers: { ...rest.headers, 'Content-Length': String(Buffer.byteLength(body)) } };
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Serves one request of the management API: GET (and HEAD) /openapi.json for anyone; every other request must come from a
 * configured caller, then its body is read (bounded, JSON only) and it is routed. Logs one line per request with
 * method, route, status and code, never a body, a header or a token. Never throws.
 */
export async function serveApiHttp(
  runtime: ServiceRuntime,
  request: ApiHttpRequest,
): Promise<ApiHttpResponse> {
  const started = Date.now();
  const url = new URL(request.url, 'http://api.invalid');
  // The path as received: URL parsing resolves dot segments (encoded ones too), and routing must not.
  const path = request.url.split('?')[0] ?? '';
  const log = runtime.ctx.logger;
  const done = (response: ApiHttpResponse, fields: Record<string, unknown> = {}) => {
    log.info('api request', {
      method: request.method,
      path,
      status: response.status,
      ms: Date.now() - started,
      ...fields,
    });
    return response;
  };
  try {
    if (path === '/openapi.json' && (request.method === 'GET' || request.method === 'HEAD')) {
      const document = answer({ status: 200, body: openApiDocument() });
      return done(request.method === 'HEAD' ? headOnly(document) : document);
    }

    const check = await runtime.callers.verify(header(request.headers, 'authorization'));
    if (!check.ok) {
      logEvent(log, 'apiCallerRefused', { reason: check.reason, detail: check.detail, path });
      const code = check.reason === 'forbidden' ? 'callerForbidden' : 'unauthenticated';
      const refused = apiError(
        code,
        code === 'callerForbidden' ? 'this caller may not use the API' : 'a valid bearer token is required',
      );
      // A body sent by an unknown caller is never read: closing spares reading the rest of it just to discard it.
      const close: Record<string, string> = hasBody(request.headers) ? { Connection: 'close' } : {};
      return done(answer(refused, { 'WWW-Authenticate': 'Bearer', ...close }), { code });
    }

    // Unknown routes are answered before reading a byte of the body.
    const found = findRoute(request.method, path);
    if (!('route' in found)) return done(answer(found), { caller: check.caller.id });
    // Admin routes are for operators (API_OPERATORS), account routes for the platform's callers.
    if (!check.caller.roles.includes(found.route.role)) {
      const refused = apiError(
        'callerForbidden',
        `this route is for callers with the ${found.route.role} role`,
      );
      return done(answer(refused, hasBody(request.headers) ? { Connection: 'close' } : {}), {
        caller: check.caller.id,
        code: 'callerForbidden',
      });
    }

    // An operation that takes no body ignores one (the document declares none): it is never read nor parsed.
    const body = found.route.body
      ? await readJsonBody(request.body, request.headers, found.route.mediaType)
      : ({ ok: true, value: undefined } as const);
    if (!body.ok) {
      // The kind of problem only: the body may hold a private key.
      log.warn('api request body refused', { code: body.code, path });
      return done(answer(apiError(body.code, body.message), { Connection: 'close' }), { code: body.code });
    }
    const ifMatch = header(request.headers, 'if-match');
    const idempotencyKey = header(request.headers, 'idempotency-key');
    const response = await runRoute(runtime, found, {
      query: Object.fromEntries(url.searchParams),
      body: body.value,
      ...(ifMatch === undefined ? {} : { ifMatch }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    const answered = answer(response);
    return done(request.method === 'HEAD' ? headOnly(answered) : answered, {
      caller: check.caller.id,
      route: found.route.path,
    });
  } catch (error) {
    log.error('api request failed', { error: error instanceof Error ? error.name : 'unknown' });
    return done(answer(apiError('unexpected', 'internal error')));
  }
}

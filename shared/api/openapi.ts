import type { ErrorCode } from '../domain/error-codes';
import { ERROR_CODES } from '../domain/error-codes';
import { idSchema } from '../domain/ids';
import { z } from '../domain/zod';
import type { Route } from './routes';
import { ROUTES } from './routes';
import { errorSchema } from './schemas';
import { RETRY_AFTER_SECONDS } from './http-errors';
import type { NoticeEvent, WebhookEventType } from '../domain/notify/webhook-event';
import { NOTICE_EVENTS, webhookEventSchema } from '../domain/notify/webhook-event';

type Json = Record<string, unknown>;

/** What any request may answer besides its route's own codes. */
const EVERY_ROUTE: readonly ErrorCode[] = ['unauthenticated', 'callerForbidden', 'unexpected'];
const WITH_BODY: readonly ErrorCode[] = ['invalidBody', 'bodyTooLarge', 'unsupportedMediaType'];
/** A path parameter that fails its pattern, or a dot segment or encoded slash in one, is 400 invalidPath. */
const WITH_PATH_PARAMETERS: readonly ErrorCode[] = ['invalidPath'];
/** What a POST may answer for its Idempotency-Key. */
const IDEMPOTENT: readonly ErrorCode[] = ['invalidIdempotencyKey', 'idempotencyKeyReused'];

/** Collects named schemas ($defs of each conversion) into components, so every operation refers to them. */
class Components {
  readonly schemas: Record<string, unknown> = {};

  /** A schema, with a top-level reference to a component replaced by the component. */
  resolve(schema: unknown): Json {
    const ref = (schema as { $ref?: unknown }).$ref;
    const id = typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : undefined;
    return (id === undefined ? schema : this.schemas[id]) as Json;
  }

  /** The JSON Schema (2020-12, OpenAPI 3.1's dialect) of `schema` as seen on input or output. */
  ref(schema: z.ZodType, io: 'input' | 'output'): unknown {
    const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
    const { $defs, $schema: _dialect, ...root } = converted;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Json)) {
      const local = toComponents(definition);
      const known = this.schemas[id];
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(local))
        throw new Error(`schema ${id} differs between its uses`);
      this.schemas[id] = local;
    }
    return toComponents(root);
  }
}

/** `#/$defs/X` → `#/components/schemas/X`, everywhere in a schema. */
function toComponents(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComponents);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string'
        ? v.replace('#/$defs/', '#/components/schemas/')
        : toComponents(v),
    ]),
  );
}

const ID_PATTERN = (z.toJSONSchema(idSchema) as { pattern?: string }).pattern;

function parameters(route: Route, components: Components): Json[] {
  const path = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: ID_PATTERN },
  }));
  const query = route.query ? components.resolve(components.ref(route.query, 'input')) : undefined;
  const properties = (query?.properties ?? {}) as Record<string, Json>;
  const ifMatch = route.ifMatch
    ? [
        {
          name: 'If-Match',
          in: 'header',
          required: false,
          description:
            'Optional. The ETag of the version this write expects; 412 preconditionFailed when the resource ' +
            'changed since. Without it the write is unconditional.',
          schema: { type: 'string', maxLength: 1024 },
        },
      ]
    : [];
  const idempotencyKey =
    route.method === 'POST'
      ? [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              'Optional. A retry with the same key and the same request within 24 hours gets the first ' +
              'successful answer again (status, headers, body; marked Idempotent-Replayed: true); the same key ' +
              'with another request is 422 idempotencyKeyReused. Scoped to the account.',
            schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
          },
        ]
      : [];
  return [
    ...path,
    ...ifMatch,
    ...idempotencyKey,
    ...Object.entries(properties).map(([name, schema]) => {
      const { description, ...rest } = schema;
      return { name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest };
    }),
  ];
}

function errorResponses(route: Route, components: Components): Json {
  const codes = [
    ...new Set([
      ...route.errors,
      ...(route.body ? WITH_BODY : []),
      ...(route.path.includes('/:') ? WITH_PATH_PARAMETERS : []),
      ...(route.method === 'POST' ? IDEMPOTENT : []),
      ...EVERY_ROUTE,
    ]),
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].httpStatus;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const error = components.ref(errorSchema, 'output');
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        String(status),
        {
          description: list.map((code) => `${code}: ${ERROR_CODES[code].meaning}`).join('; '),
          ...(status === 405
            ? {
                headers: {
                  Allow: { description: 'The methods the resource takes', schema: { type: 'string' } },
                },
              }
            : {}),
          ...(status === 503
            ? {
                headers: {
                  'Retry-After': {
                    description: `Seconds to wait before retrying (${RETRY_AFTER_SECONDS})`,
                    schema: { type: 'integer', minimum: 0 },
                  },
                },
              }
            : {}),
          content: { 'application/problem+json': { schema: error } },
        },
      ]),
  );
}

const STRING = { type: 'string' };

/** The headers of a route's success answer. */
function okHeaders(route: Route): Json {
  return {
    ...(route.ok.location
      ? { Location: { description: 'The path of what was created', schema: STRING } }
      : {}),
    ...(route.etag
      ? { ETag: { description: 'The version of the resource, for If-Match', schema: STRING } }
      : {}),
    ...(route.method === 'POST'
      ? {
          'Idempotent-Replayed': {
            description: '"true" when this is the answer remembered for the Idempotency-Key sent',
            schema: { type: 'string', enum: ['true'] },
          },
        }
      : {}),
  };
}

function operation(route: Route, components: Components): Json {
  const ok = route.ok.schema
    ? { content: { 'application/json': { schema: components.ref(route.ok.schema, 'output') } } }
    : {};
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/\/:?(\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
    summary: route.summary,
    description: route.description ?? `${route.summary}.`,
    tags: [tagOf(route.path)],
    parameters: parameters(route, components),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              [route.mediaType ?? 'application/json']: { schema: components.ref(route.body, 'input') },
            },
          },
        }
      : {}),
    responses: {
      [String(route.ok.status)]: {
        description: route.ok.description,
        ...(Object.keys(okHeaders(route)).length === 0 ? {} : { headers: okHeaders(route) }),
        ...ok,
      },
      ...errorResponses(route, components),
    },
  };
}

/** The tags operations are grouped by, in the order a reader meets them. */
const TAGS = [
  {
    name: 'destinations',
    description:
      "Customer buckets, and their service-account keys (keys never leave) or their grant to the account's principal.",
  },
  { name: 'exports', description: "The account's exports: status, health, runs; resuming a failing one." },
  { name: 'runs', description: 'One run of an export: counts, manifest and files.' },
  {
    name: 'notification-settings',
    description:
      "Who is told about the account's export notices: contact addresses, and a webhook whose events are listed " +
      'under webhooks.',
  },
  { name: 'operators', description: 'Operations on the service itself.' },
  { name: 'document', description: 'This OpenAPI document.' },
] as const;

/** An account route's tag is its first segment after the account; /v1/admin/… is the operators'. */
function tagOf(path: string): string {
  if (path.startsWith('/v1/admin/')) return 'operators';
  const segment = path.split('/')[4] ?? '';
  // The account principal is what a destination without a key grants access to.
  if (segment === 'principal') return 'destinations';
  return TAGS.some((t) => t.name === segment) ? segment : 'operators';
}

/** HEAD of a GET route: the same answers' statuses and headers, never a body (RFC 9110 §9.3.2). */
function headOperation(get: Json): Json {
  const responses = Object.fromEntries(
    Object.entries(get.responses as Record<string, Json>).map(([status, response]) => {
      const { content: _content, ...rest } = response;
      return [status, rest];
    }),
  );
  return {
    ...get,
    operationId: `head${String(get.operationId).slice('get'.length)}`,
    summary: `${String(get.summary)} (headers only)`,
    responses,
  };
}

const WEBHOOK_HEADERS: [string, string][] = [
  [
    'webhook-id',
    "The notice's stable id: the same on every attempt of one notice, so that a repeat can be dropped.",
  ],
  [
    'webhook-timestamp',
    'When this attempt was sent, in seconds since the epoch (reject one far from your clock).',
  ],
  [
    'webhook-signature',
    'v1,{base64 HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"} with the secret the PUT returned; ' +
      'verify it with a Standard Webhooks library.',
  ],
];

const WEBHOOK_SUMMARIES: Record<NoticeEvent, string> = {
  notice1: 'Notice 1: an export is failing and delivers nothing until fixed',
  notice2: 'Notice 2: an export stops at stopsAt unless fixed',
  notice3: 'Notice 3: an export was stopped',
  recovered: 'An export that had been warned about works again',
};

/**
 * The events posted to an account's webhook (OpenAPI 3.1 `webhooks`), one per notice: the body and the Standard
 * Webhooks headers. Any 2xx answer is taken; 408, 429 and 5xx or no answer are retried with backoff.
 */
function webhookOperations(components: Components): Json {
  return Object.fromEntries(
    (Object.entries(NOTICE_EVENTS) as [NoticeEvent, WebhookEventType][]).map(([event, type]) => [
      type,
      {
        post: {
          operationId: `webhook${event.charAt(0).toUpperCase()}${event.slice(1)}`,
          summary: WEBHOOK_SUMMARIES[event],
          description:
            `${WEBHOOK_SUMMARIES[event]}. Sent with the e-mail of the same notice to the account's webhook ` +
            '(PUT /v1/accounts/{accountId}/notification-settings), signed as Standard Webhooks specifies. Any 2xx ' +
            'answer is taken; 408, 429, 5xx or no answer within 5 s are retried with exponential backoff for up ' +
            'to 30 s, and then given up (the e-mail went out all the same).',
          tags: ['notification-settings'],
          security: [],
          parameters: WEBHOOK_HEADERS.map(([name, description]) => ({
            name,
            in: 'header',
            required: true,
            description,
            schema: STRING,
          })),
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: components.ref(webhookEventSchema(type), 'output'),
              },
            },
          },
          responses: {
            '204': { description: 'Received (any 2xx will do)' },
            '400': { description: 'Refused (e.g. the signature did not verify): not retried' },
          },
        },
      },
    ]),
  );
}

/**
 * The OpenAPI 3.1 document of the management API, generated from the route table and the same zod schemas that
 * parse requests and shape answers. Served at GET /openapi.json and checked in as docs/openapi.json.
 */
export function openApiDocument(): Json {
  cached ??= buildDocument();
  return cached;
}

let cached: Json | undefined;

function buildDocument(): Json {
  const components = new Components();
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const op = operation(route, components);
    paths[path] = {
      ...paths[path],
      [route.method.toLowerCase()]: op,
      ...(route.method === 'GET' ? { head: headOperation(op) } : {}),
    };
  }
  paths['/openapi.json'] = {
    get: {
      operationId: 'getOpenApi',
      summary: 'This document (no authentication)',
      description: 'The OpenAPI 3.1 document of this API, the same as docs/openapi.json. Needs no token.',
      tags: ['document'],
      security: [],
      responses: { '200': { description: 'The OpenAPI 3.1 document', content: { 'application/json': {} } } },
    },
  };
  paths['/openapi.json'] = {
    ...paths['/openapi.json'],
    head: headOperation(paths['/openapi.json'].get as Json),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'gcs-export management API',
      version: '1',
      description:
        'Destinations (customer buckets and their keys), exports and runs, as the platform settings page uses ' +
        'them. Every route but this document needs a bearer token: in production a Google ID token of a ' +
        'configured service account; with `gcs-export serve` its GCS_EXPORT_API_TOKEN. Reference: docs/API.md.',
      license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [
      {
        url: '{apiUrl}',
        description: 'The deployed api function (terraform output api_url), or gcs-export serve locally',
        variables: { apiUrl: { default: 'http://127.0.0.1:8080', description: 'terraform output api_url' } },
      },
    ],
    tags: TAGS,
    security: [{ bearer: [] }],
    paths,
    webhooks: webhookOperations(components),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A Google-signed ID token (audience: API_AUDIENCE) of a service account in API_ALLOWED_CALLERS; ' +
            'or, with gcs-export serve, GCS_EXPORT_API_TOKEN.',
        },
      },
      schemas: Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => (a < b ? -1 : 1))),
    },
  };
}

import { z } from './zod';
import type { ParseResult } from './schema';
import { parseWithSchema } from './schema';
import { idSchema } from './ids';
import { gcsObjectUriSchema, gcsPrefixUriSchema } from './source/gcs-uri';
import { inputError } from './errors';

export const EXPORT_KINDS = ['events', 'profiles'] as const;
export const EXPORT_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
/** Formats this build can write; the others are part of the contract and rejected clearly until they land. */
export const SUPPORTED_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv', 'parquet'];
export const COMPRESSIONS = ['gzip', 'none'] as const;

export type ExportKind = (typeof EXPORT_KINDS)[number];
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type Compression = (typeof COMPRESSIONS)[number];

/**
 * What a request may hold, in bytes of UTF-8 (strings) and in items (arrays). A request is stored whole in its run
 * document, and Firestore refuses a document over 1 MiB; with at most 64 KiB of JSON (the management API's body
 * limit too), the run document (the request plus bookkeeping of bounded size) stays far below that limit, and the
 * documents that hold parts of a request (the export's `createdBy`, a rejection's excerpt) are smaller still.
 * Each field has its own bound as well, so that a rejection names the field that is too large.
 */
export const REQUEST_BOUNDS = {
  /** The whole request as UTF-8 JSON, as received. */
  requestBytes: 64 * 1024,
  eventNameBytes: 1024,
  events: 1000,
  objects: 2000,
  prefixes: 1000,
  instantBytes: 64,
  /** RFC 5321's limit on a forward path. */
  emailBytes: 254,
  nameBytes: 512,
  /** The export's display name: a subject line's worth. */
  displayNameBytes: 100,
} as const;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const atMostBytes = (max: number) =>
  [(text: string) => utf8Bytes(text) <= max, `must be at most ${max} bytes in UTF-8`] as const;

const isoInstant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' })
  .refine(...atMostBytes(REQUEST_BOUNDS.instantBytes));

/**
 * Object names are limited to 1,024 bytes of UTF-8 by Cloud Storage, so the prefix is limited in bytes too: with
 * at most 512 bytes here, the longest name the layout can produce (event folder, day, part name) stays well under
 * the limit (layout.ts checks every name against it).
 */
export const MAX_PREFIX_BYTES = 512;

/** A destination path prefix: relative, "/"-separated, no empty, "." or ".." segment, no control characters. */
const prefixSchema = z
  .string()
  .refine(...atMostBytes(MAX_PREFIX_BYTES))
  .refine((prefix) => !prefix.startsWith('/'), 'must not start with "/"')
  .transform((prefix) => prefix.replace(/\/+$/, ''))
  .refine(
    (prefix) => prefix === '' || prefix.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'must not contain empty, "." or ".." segments',
  )
  // eslint-disable-next-line no-control-regex
  .refine((prefix) => !/[\u0000-\u001f\u007f-\u009f]/.test(prefix), 'must not contain control characters');

/**
 * The export's name as people know it (notices' subjects and bodies use it): trimmed, 1–100 bytes of UTF-8, no
 * control characters (line breaks among them) and no bidirectional controls, which could reorder what a reader sees.
 */
const displayNameSchema = z
  .string()
  .trim()
  .min(1)
  .refine(...atMostBytes(REQUEST_BOUNDS.displayNameBytes))
  .refine(
    (name) => !/[\p{Cc}\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u.test(name),
    'must not contain control or bidirectional-control characters',
  );

/** The request as received, before validation: every field may be missing or of the wrong type. */
interface RawRequest {
  kind?: unknown;
  window?: { from?: unknown; to?: unknown };
  events?: unknown;
  source?: { objects?: unknown; prefixes?: unknown };
  format?: unknown;
}

const countOf = (value: unknown): number => (Array.isArray(value) ? value.length : 0);

const crossFieldRules: { path: string[]; message: string; holds: (r: RawRequest) => boolean }[] = [
  {
    path: ['window'],
    message: 'from must be before to',
    holds: (r) =>
      typeof r.window?.from !== 'string' ||
      typeof r.window.to !== 'string' ||
      !(Date.parse(r.window.from) >= Date.parse(r.window.to)),
  },
  {
    path: ['source'],
    message: 'name at least one object or prefix',
    holds: (r) =>
      typeof r.source !== 'object' || countOf(r.source?.objects) + countOf(r.source?.prefixes) > 0,
  },
  {
    path: ['events'],
    message: 'an event filter applies to kind "events" only',
    holds: (r) => r.events === undefined || r.kind !== 'profiles',
  },
  {
    path: ['format'],
    message: `is not available in this release; supported: ${SUPPORTED_FORMATS.join(', ')}`,
    holds: (r) =>
      typeof r.format !== 'string' ||
      !(EXPORT_FORMATS as readonly string[]).includes(r.format) ||
      SUPPORTED_FORMATS.includes(r.format as ExportFormat),
  },
];

export const exportRequestSchema = z
  .strictObject({
    requestId: idSchema,
    accountId: idSchema,
    exportId: idSchema,
    /** Optional; a later request with another one renames the export. */
    displayName: displayNameSchema.optional(),
    destinationId: idSchema,
    kind: z.enum(EXPORT_KINDS),
    window: z.strictObject({ from: isoInstant, to: isoInstant }),
    events: z
      .array(
        z
          .string()
          .min(1)
          .refine(...atMostBytes(REQUEST_BOUNDS.eventNameBytes)),
      )
      .min(1)
      .max(REQUEST_BOUNDS.events)
      .optional(),
    source: z.strictObject({
      objects: z.array(gcsObjectUriSchema).max(REQUEST_BOUNDS.objects).default([]),
      prefixes: z.array(gcsPrefixUriSchema).max(REQUEST_BOUNDS.prefixes).default([]),
    }),
    format: z.enum(EXPORT_FORMATS).default('jsonl'),
    compression: z.enum(COMPRESSIONS).default('gzip'),
    prefix: prefixSchema.default(''),
    createdBy: z.strictObject({
      email: z.email().refine(...atMostBytes(REQUEST_BOUNDS.emailBytes)),
      name: z
        .string()
        .trim()
        .min(1)
        .refine(...atMostBytes(REQUEST_BOUNDS.nameBytes)),
    }),
  })
  // Cross-field rules run even when other fields are invalid, so that one rejection lists every problem.
  .check(
    ...crossFieldRules.map(({ path, message, holds }) =>
      z.refine(
        (value: unknown) => holds(typeof value === 'object' && value !== null ? (value as RawRequest) : {}),
        {
          path,
          message,
          when: () => true,
        },
      ),
    ),
  );

export type ExportRequest = z.output<typeof exportRequestSchema>;
export type ExportRequestInput = z.input<typeof exportRequestSchema>;

/** Rules of the deployment a request must also follow. */
export interface RequestRules {
  /**
   * The platform-side locations an account's requests may read, as `gs://` prefixes in which `{accountId}` stands
   * for the request's account (SOURCE_PREFIX_TEMPLATE). Undefined: any location the platform can read.
   */
  sourceScope?: readonly string[] | undefined;
}

export const ACCOUNT_PLACEHOLDER = '{accountId}';

/** The prefixes one account's sources must lie under. */
export const sourceScopeOf = (templates: readonly string[], accountId: string): string[] =>
  templates.map((template) => template.replaceAll(ACCOUNT_PLACEHOLDER, accountId));

/**
 * Every source URI outside the account's scope, as violations. Ids cannot contain "/" and every scope ends with
 * "/", so account "a" never reaches account "ab"'s prefix.
 */
export function sourceScopeViolations(request: ExportRequest, templates: readonly string[]): string[] {
  const scope = sourceScopeOf(templates, request.accountId);
  const inScope = (uri: string) => scope.some((prefix) => uri.startsWith(prefix));
  const outside = (field: 'objects' | 'prefixes') =>
    request.source[field].flatMap((uri, i) =>
      inScope(uri) ? [] : [`source.${field}.${i}: is outside the sources of account "${request.accountId}"`],
    );
  return [...outside('objects'), ...outside('prefixes')];
}

/** Defence in depth for requests that reach planning without the parse: the same rule as a typed error. */
export function assertSourceInScope(request: ExportRequest, rules: RequestRules): void {
  if (!rules.sourceScope) return;
  const violations = sourceScopeViolations(request, rules.sourceScope);
  if (violations.length > 0) throw inputError('sourceOutOfScope', violations.join('; '), { violations });
}

/** The request's size against REQUEST_BOUNDS.requestBytes, as a violation: its size only, never its content. */
function sizeViolations(input: unknown): string[] {
  let json: string;
  try {
    json = JSON.stringify(input) ?? '';
  } catch {
    // Nested too deeply for the runtime's serialiser (or cyclic): no request looks like that.
    return ['(request): cannot be measured: nested too deeply'];
  }
  const bytes = utf8Bytes(json);
  if (bytes <= REQUEST_BOUNDS.requestBytes) return [];
  const figure = (n: number) => n.toLocaleString('en-US');
  return [
    `(request): is ${figure(bytes)} bytes of UTF-8 JSON; at most ${figure(REQUEST_BOUNDS.requestBytes)} are accepted`,
  ];
}

/**
 * The one door of a request: the schema, the size bound and the deployment's rules. The size is measured on the
 * input as received (the schema sees only what it parsed, without unknown keys).
 */
export function parseExportRequest(input: unknown, rules: RequestRules = {}): ParseResult<ExportRequest> {
  const oversize = sizeViolations(input);
  const parsed = parseWithSchema(exportRequestSchema, input);
  if (!parsed.ok) return { ok: false, violations: [...oversize, ...parsed.violations] };
  if (oversize.length > 0) return { ok: false, violations: oversize };
  if (!rules.sourceScope) return parsed;
  const violations = sourceScopeViolations(parsed.value, rules.sourceScope);
  return violations.length > 0 ? { ok: false, violations } : parsed;
}

import { z } from 'zod';
import { idSchema } from './ids';
import { gcsObjectUriSchema, gcsPrefixUriSchema } from './source-uri';

export const EXPORT_KINDS = ['events', 'profiles'] as const;
export const EXPORT_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
/** Formats this build can write; the others are part of the contract and rejected clearly until they land. */
export const SUPPORTED_FORMATS: readonly ExportFormat[] = ['jsonl'];
export const COMPRESSIONS = ['gzip', 'none'] as const;

export type ExportKind = (typeof EXPORT_KINDS)[number];
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type Compression = (typeof COMPRESSIONS)[number];

const isoInstant = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' });

/** A destination path prefix: relative, "/"-separated, no empty, "." or ".." segment, no control characters. */
const prefixSchema = z
  .string()
  .max(512)
  .transform((prefix) => prefix.replace(/\/+$/, ''))
  .refine((prefix) => prefix === '' || !prefix.startsWith('/'), 'must not start with "/"')
  .refine(
    (prefix) => prefix === '' || prefix.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'must not contain empty, "." or ".." segments',
  )
  // eslint-disable-next-line no-control-regex
  .refine((prefix) => !/[\u0000-\u001f\u007f-\u009f]/.test(prefix), 'must not contain control characters');

export const exportRequestSchema = z
  .strictObject({
    requestId: idSchema,
    accountId: idSchema,
    exportId: idSchema,
    destinationId: idSchema,
    kind: z.enum(EXPORT_KINDS),
    window: z.strictObject({ from: isoInstant, to: isoInstant }),
    events: z.array(z.string().min(1).max(1024)).min(1).max(1000).optional(),
    source: z.strictObject({
      objects: z.array(gcsObjectUriSchema).max(10_000).default([]),
      prefixes: z.array(gcsPrefixUriSchema).max(1_000).default([]),
    }),
    format: z.enum(EXPORT_FORMATS).default('jsonl'),
    compression: z.enum(COMPRESSIONS).default('gzip'),
    prefix: prefixSchema.default(''),
    createdBy: z.strictObject({
      email: z.email(),
      name: z.string().trim().min(1).max(200),
    }),
  })
  .superRefine((request, ctx) => {
    if (Date.parse(request.window.from) >= Date.parse(request.window.to)) {
      ctx.addIssue({ code: 'custom', path: ['window'], message: 'from must be before to' });
    }
    if (request.source.objects.length + request.source.prefixes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'name at least one object or prefix' });
    }
    if (request.events && request.kind !== 'events') {
      ctx.addIssue({ code: 'custom', path: ['events'], message: 'an event filter applies to kind "events" only' });
    }
    if (!SUPPORTED_FORMATS.includes(request.format)) {
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: `"${request.format}" is not available yet; supported: ${SUPPORTED_FORMATS.join(', ')}`,
      });
    }
  });

export type ExportRequest = z.output<typeof exportRequestSchema>;
export type ExportRequestInput = z.input<typeof exportRequestSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; violations: string[] };

/** "path: message" for every violation, so that a rejected request says everything that is wrong at once. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(request)';
    return `${where}: ${issue.message}`;
  });
}

export function parseWithSchema<T>(schema: z.ZodType<T>, input: unknown): ParseResult<T> {
  const result = schema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, violations: formatIssues(result.error.issues) };
}

export const parseExportRequest = (input: unknown): ParseResult<ExportRequest> =>
  parseWithSchema(exportRequestSchema, input);

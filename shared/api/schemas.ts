import { ERROR_KINDS } from '../domain/error-codes';
import { COMPRESSIONS, EXPORT_FORMATS, EXPORT_KINDS } from '../domain/export-request';
import { RUN_STATUSES, runTotalsSchema } from '../domain/documents';
import { idSchema } from '../domain/ids';
import { MAX_KEY_TEXT_BYTES } from '../domain/destinations/destination.schema';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/pages';
import { z } from '../domain/zod';
import { MAX_CONTACTS } from '../domain/notify/notification-settings';
import { webhookUrlSchema } from '../domain/notify/webhook-url';

/**
 * The management API's wire format: request bodies and query strings are parsed with these schemas, responses are
 * shaped by them (unknown fields are dropped, so nothing reaches a caller by accident), and docs/openapi.json is
 * generated from them.
 */

/** A key may be pasted as the downloaded file's text or sent as the parsed JSON object. */
/** An instant as the service writes it: ISO 8601 in UTC (RFC 3339). */
const timestamp = () => z.string().meta({ format: 'date-time' });

export const keyInputSchema = z
  .union([
    z
      .string()
      .min(1)
      .max(MAX_KEY_TEXT_BYTES, `is larger than ${MAX_KEY_TEXT_BYTES} bytes; a key file is about 2 KB`),
    // Taken as sent, not copied: a copy would turn an own "__proto__" key into a prototype and drop it, while the
    // same key sent as text is refused for it.
    z
      .custom<Record<string, unknown>>(
        (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
        'must be a JSON object or its text',
      )
      .meta({ type: 'object' }),
  ])
  .meta({
    description: 'The service account key file: its contents as pasted (a JSON string), or the object.',
  })
  .transform((key) => (typeof key === 'string' ? key : JSON.stringify(key)));

// Destinations without a key (issue 22): how a destination reaches its bucket.
export const serviceAccountKeyAuthSchema = z
  .strictObject({ type: z.literal('serviceAccountKey'), key: keyInputSchema })
  .meta({
    id: 'ServiceAccountKeyAuth',
    description: "The customer's service account key, stored encrypted.",
  });

export const grantAuthSchema = z.strictObject({ type: z.literal('grant') }).meta({
  id: 'GrantAuth',
  description:
    "No key: the customer grants the account's principal roles/storage.objectCreator and " +
    'roles/storage.objectViewer on the bucket (GET …/principal names it and the commands). Recommended.',
});

export const destinationAuthSchema = z
  .discriminatedUnion('type', [serviceAccountKeyAuthSchema, grantAuthSchema])
  .meta({ id: 'DestinationAuth' });

export const newDestinationBody = z
  .strictObject({
    destinationId: idSchema.optional().meta({ description: 'Generated when absent.' }),
    nickname: z.string().max(200).meta({ description: 'Unique within the account (case-insensitive).' }),
    bucket: z.string().max(222).meta({ description: 'The bucket name, exactly as in Google Cloud.' }),
    key: keyInputSchema.optional().meta({
      description:
        'The key, as before `auth` existed: the same as auth {"type": "serviceAccountKey", "key": …}.',
    }),
    auth: destinationAuthSchema
      .optional()
      .meta({ description: 'A key or a grant; exactly one of key and auth.' }),
  })
  .refine((body) => (body.key === undefined) !== (body.auth === undefined), {
    message: 'exactly one of key and auth is required',
    path: ['auth'],
  })
  .meta({ id: 'NewDestination' });

export const grantSchema = z
  .object({
    principal: z.string().meta({ description: "The account's principal: a Google service account e-mail." }),
    roles: z.array(z.string()).meta({ description: 'The roles to grant it on the bucket.' }),
    commands: z
      .array(z.string())
      .meta({ description: 'The `gcloud storage buckets add-iam-policy-binding` commands that grant them.' }),
  })
  .meta({ id: 'Grant' });

export const principalQuerySchema = z.strictObject({
  bucket: z
    .string()
    .max(222)
    .optional()
    .meta({ description: 'The bucket the commands name (BUCKET when absent).' }),
});

export const principalSchema = grantSchema
  .extend({ accountId: z.string() })
  .meta({ id: 'Principal', description: 'Whom a customer grants access instead of handing over a key.' });

/** RFC 7396: a member left out is unchanged; the nickname cannot be removed (null is refused). */
export const destinationPatchBody = z
  .strictObject({
    nickname: z
      .string()
      .max(200)
      .optional()
      .meta({ description: 'Unique within the account (case-insensitive).' }),
  })
  .meta({ id: 'DestinationPatch' });

export const rotateKeyBody = z.strictObject({ key: keyInputSchema }).meta({ id: 'KeyRotation' });

/** No component id: the document lists its members as query parameters, never the object itself. */
export const pageQuerySchema = z.strictObject({
  // A query value is text: coerced, so that the document says what the server takes (an integer, 1 to 200).
  pageSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .optional()
    .meta({ description: `Items per page, 1-${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).` }),
  pageToken: z.string().max(1024).optional().meta({ description: 'nextPageToken of the previous page.' }),
});

const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      nextPageToken: z.string().optional().meta({ description: 'Present when there may be more items.' }),
    })
    .meta({ id });

export const retentionSchema = z
  .object({ periodSeconds: z.number(), locked: z.boolean() })
  .meta({ id: 'Retention' });

export const warningSchema = z
  .object({ code: z.literal('retentionPolicy'), message: z.string(), retention: retentionSchema })
  .meta({ id: 'Warning', description: 'Something the customer should know; the request still succeeded.' });

export const destinationSchema = z
  .object({
    destinationId: z.string(),
    accountId: z.string(),
    nickname: z.string(),
    bucket: z.string(),
    key: z
      .object({ clientEmail: z.string(), projectId: z.string(), version: z.number().int() })
      .optional()
      .meta({ description: 'Who the stored key is; the key itself never leaves the service.' }),
    grant: grantSchema
      .optional()
      .meta({ description: 'Present for a destination without a key: whom the bucket must grant what.' }),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Destination' });

export const checkedDestinationSchema = destinationSchema
  .extend({ warnings: z.array(warningSchema) })
  .meta({ id: 'CheckedDestination' });

export const destinationPageSchema = pageOf(destinationSchema, 'DestinationPage');

const runIds = (description: string) => z.array(z.string()).meta({ description });

export const restartedExportSchema = z
  .object({
    exportId: z.string(),
    status: z.enum(['active', 'stopped']).meta({ description: 'The export after the restart.' }),
    recovered: z.boolean().meta({
      description: 'False if a run was blocked again while it restarted: the hourly check looks at it again.',
    }),
    moved: runIds('Blocked runs planned again for this destination.'),
    caughtUp: runIds('Requests held while the export was stopped, now delivered in request order.'),
  })
  .meta({ id: 'RestartedExport' });

export const validationSchema = z
  .object({
    valid: z.literal(true),
    destination: checkedDestinationSchema,
    restarted: z.array(restartedExportSchema).meta({
      description:
        "The account's failing or stopped exports that use this destination, restarted by this validate.",
    }),
  })
  .meta({ id: 'Validation' });

export const failureSchema = z
  .object({
    kind: z.enum(ERROR_KINDS),
    code: z.string(),
    message: z.string().meta({ description: 'For the customer: names only customer-side things.' }),
    status: z.number().int().optional(),
    at: z.string(),
  })
  .meta({ id: 'Failure' });

export const healthSchema = z
  .object({
    state: z.enum(['healthy', 'failing']),
    firstFailureAt: timestamp().optional(),
    lastFailureAt: timestamp().optional(),
    lastError: failureSchema.optional(),
  })
  .loose()
  .meta({ id: 'Health' });

export const noticeSchema = z
  .object({
    number: z.number().int().min(1).max(3),
    at: z.string(),
    messageId: z.string().optional().meta({ description: "The mail provider's message id." }),
    code: z.string().optional().meta({ description: 'The error code the e-mail reported.' }),
  })
  .meta({ id: 'Notice' });

export const exportSummarySchema = z
  .object({
    exportId: z.string(),
    displayName: z
      .string()
      .optional()
      .meta({ description: "The export's name from its latest request that carried one; notices use it." }),
    accountId: z.string(),
    destinationId: z.string(),
    status: z.enum(['active', 'stopped']),
    health: healthSchema,
    stop: z
      .object({ at: z.string().optional(), reason: failureSchema.optional() })
      .optional()
      .meta({ description: 'Present while the export is stopped: when, and the failure that stopped it.' }),
    notices: z
      .array(noticeSchema)
      .meta({ description: 'The e-mails of the current failure episode that went out, oldest first.' }),
    lastRunId: z.string().optional(),
    lastSuccessAt: timestamp().optional(),
    updatedAt: timestamp(),
    explanation: z.string().optional().meta({
      description:
        'While the export is failing or stopped: what happened, what the customer must do, and what happens after.',
    }),
  })
  .meta({ id: 'ExportSummary' });

export const exportPageSchema = pageOf(exportSummarySchema, 'ExportPage');

export const runSummarySchema = z
  .object({
    runId: z.string(),
    requestId: z.string(),
    status: z.enum(RUN_STATUSES),
    createdAt: timestamp(),
    completedAt: timestamp().optional(),
    totals: runTotalsSchema.optional(),
    failure: failureSchema.optional(),
    explanation: z.string().optional().meta({
      description:
        'For a held, skipped or blocked run: what happened, what the customer must do, and what happens after.',
    }),
  })
  .meta({ id: 'RunSummary' });

/** The export as the dashboard shows it: health, notices and recent runs (fields the health check adds pass too). */
export const exportDetailSchema = exportSummarySchema
  .extend({
    recentRuns: z.array(runSummarySchema).meta({ description: 'The newest runs first (at most 10).' }),
  })
  .loose()
  .meta({ id: 'Export' });

export const runPageSchema = pageOf(runSummarySchema, 'RunPage');

export const fileSchema = z
  .object({
    name: z.string(),
    records: z.number().int(),
    bytes: z.number().int(),
    crc32c: z.string(),
    dt: z.string(),
    event: z.string().optional(),
  })
  .meta({ id: 'File' });

export const filePageSchema = pageOf(fileSchema, 'FilePage');

/** The request as run, without the platform's source locations. */
export const runRequestSchema = z
  .object({
    requestId: z.string(),
    exportId: z.string(),
    displayName: z.string().optional(),
    destinationId: z.string(),
    kind: z.enum(EXPORT_KINDS),
    window: z.object({ from: z.string(), to: z.string() }),
    events: z.array(z.string()).optional(),
    format: z.enum(EXPORT_FORMATS),
    compression: z.enum(COMPRESSIONS),
    prefix: z.string(),
    createdBy: z.object({ email: z.string(), name: z.string() }),
  })
  .meta({ id: 'RunRequest' });

export const runDetailSchema = runSummarySchema
  .extend({
    accountId: z.string(),
    exportId: z.string(),
    destinationId: z.string(),
    request: runRequestSchema,
    chunkCount: z.number().int().optional(),
    plannedAt: timestamp().optional(),
    manifest: z.object({ bucket: z.string(), name: z.string() }).optional(),
    updatedAt: timestamp(),
    files: filePageSchema.meta({ description: 'The first page of files; more at …/runs/{runId}/files.' }),
  })
  .meta({ id: 'Run' });

export const resumeSchema = z
  .object({
    runs: z.array(z.string()).meta({ description: 'The runs handed back to the workers.' }),
    chunks: z.number().int().meta({ description: 'Chunk tasks published again.' }),
    finalised: z
      .array(z.string())
      .meta({ description: 'Runs that had nothing left to write and were finished.' }),
    status: z.enum(['active', 'stopped']).meta({ description: 'The export after the resume.' }),
    recovered: z.boolean().meta({
      description: 'False if a run was blocked again while it resumed: the hourly check looks at it again.',
    }),
    moved: runIds('Blocked runs of an earlier destination planned again for the one the export uses now.'),
    caughtUp: runIds('Requests held while the export was stopped, now delivered in request order.'),
  })
  .loose()
  .meta({ id: 'Resume' });

export const rewrapSchema = z
  .object({
    examined: z.number().int(),
    rewrapped: z.number().int(),
    current: z.number().int(),
    withoutKey: z.number().int(),
    webhookSecrets: z
      .object({ examined: z.number().int(), rewrapped: z.number().int(), current: z.number().int() })
      .meta({ description: "Accounts' webhook signing secrets, re-encrypted the same way." }),
  })
  .meta({ id: 'Rewrap' });

// Notification settings (issue 21): who is told about an account's export notices, and its webhook.

export const notificationSettingsBody = z
  .strictObject({
    emails: z
      .array(z.email().max(254))
      .max(MAX_CONTACTS)
      .meta({
        description:
          `Up to ${MAX_CONTACTS} addresses told about every notice of the account's exports, besides each ` +
          "export's creator (each address once, compared case-insensitively).",
      }),
    webhook: z
      .strictObject({
        url: webhookUrlSchema.meta({
          format: 'uri',
          pattern: '^https://',
          description:
            'https only, no user name or password, no fragment; its host must resolve to public addresses only.',
        }),
        rotateSecret: z
          .boolean()
          .optional()
          .meta({ description: 'A new signing secret although the URL stays the same.' }),
      })
      .nullable()
      .optional()
      .meta({ description: 'Absent or null: no webhook (a stored one is removed).' }),
  })
  .meta({ id: 'NotificationSettingsInput' });

export const notificationSettingsSchema = z
  .object({
    accountId: z.string(),
    emails: z.array(z.string()),
    webhook: z
      .object({
        url: z.string(),
        secretCreatedAt: timestamp(),
        secret: z
          .string()
          .optional()
          .meta({
            description:
              'The Standard Webhooks signing secret (whsec_…): only in the answer to the PUT that set the webhook, ' +
              'changed its URL or rotated it. It is never shown again.',
          }),
      })
      .nullable(),
    updatedAt: timestamp().optional().meta({ description: 'Absent until the settings are first written.' }),
  })
  .meta({ id: 'NotificationSettings' });

const violationsSchema = z
  .array(z.string())
  .optional()
  .meta({ description: 'Every problem of the input at once.' });

/** RFC 9457 problem details, with the project's members as extensions and the former envelope (deprecated). */
export const errorSchema = z
  .object({
    type: z.string().meta({ description: 'urn:gcs-export:problem:{code}; the codes are in docs/ERRORS.md.' }),
    title: z.string().meta({ description: "The code's meaning: the same for every problem of its type." }),
    status: z.number().int(),
    detail: z.string().meta({ description: 'This occurrence, in words; repeats no value sent.' }),
    instance: z.string().meta({ description: 'urn:uuid:… naming this occurrence (never the path).' }),
    code: z.string().meta({ description: 'Stable; see docs/API.md.' }),
    violations: violationsSchema,
    kind: z
      .literal('destination')
      .optional()
      .meta({ description: 'Present when the customer must fix the destination.' }),
    error: z
      .object({
        status: z.number().int(),
        code: z.string(),
        message: z.string().meta({ description: 'The same as detail.' }),
        violations: violationsSchema,
        kind: z.literal('destination').optional(),
      })
      .meta({ description: 'Deprecated: the former error envelope, kept for clients that read error.code.' }),
  })
  .meta({ id: 'Error' });

import { randomUUID } from 'node:crypto';
import type { ServiceRuntime } from '../handlers/service-runtime';
import type { ApiRole } from '../ports/api-callers.port';
import {
  accountPrincipal,
  deleteDestination,
  getDestination,
  listDestinations,
  registerDestination,
  renameDestination,
  rotateDestinationKey,
} from '../domain/destinations/manage-destinations';
import type { Precondition } from '../domain/destinations/manage-destinations';
import { publicDestination } from '../domain/destinations/destination.schema';
import { grantInstructions } from '../domain/destinations/account-principals';
import { bucketNameSchema } from '../domain/source/gcs-uri';
import { inputError } from '../domain/errors';
import { rewrapKeys } from '../domain/destinations/rewrap-keys';
import type { ErrorCode, ErrorCodeOf } from '../domain/error-codes';
import { restartExport, validateAndRestart } from '../domain/health/restart-export';
import type { z } from '../domain/zod';
import type { Page, PageRequest } from '../domain/pages';
import * as api from './schemas';
import { openPageToken, sealPage } from './page-tokens';
import { exportRuns, exportStatus, listExports, runFiles, runStatus } from './status';
import { withPublicFailures } from './public-view';
import { requireMatch } from './etags';
import type { WrittenNotificationSettings } from '../domain/notify/notification-settings';
import {
  getNotificationSettings,
  putNotificationSettings,
  rewrapWebhookSecrets,
} from '../domain/notify/notification-settings';

export interface RouteInput {
  /** Path parameters (`:name` segments), each a valid id. */
  params: Record<string, string>;
  /** The query string, parsed by the route's `query` schema. */
  query: Record<string, string | undefined>;
  /** The body, parsed by the route's `body` schema. */
  body: unknown;
  /** The If-Match header, for routes that honour it. */
  ifMatch?: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute path; `:name` segments are ids. Every account route starts with /v1/accounts/:accountId/. */
  path: string;
  summary: string;
  description?: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The code a body that fails `body` is answered with (invalidBody unless told). */
  bodyError?: ErrorCodeOf<'input'>;
  /** The body's media type (application/json when absent). */
  mediaType?: 'application/merge-patch+json';
  /** Who may call it: the platform's callers (account routes), or operators (admin routes, API_OPERATORS). */
  role: ApiRole;
  /** The route honours If-Match (optional: without it the write is unconditional; a mismatch is 412). */
  ifMatch?: true;
  /** The answer is one resource: the representation its ETag is computed from (the same as its GET's). */
  etag?: (body: unknown) => unknown;
  /** The success answer: its status, and the schema that shapes (and documents) its body. */
  ok: {
    status: number;
    description: string;
    schema?: z.ZodType;
    /** A 201's Location: the path of what was created (RFC 9110 §10.2.2), from the shaped answer. */
    location?: (params: Record<string, string>, body: unknown) => string;
  };
  /** Codes this route answers with beyond the ones every route may (documented in the OpenAPI document). */
  errors: readonly ErrorCode[];
  handle(runtime: ServiceRuntime, input: RouteInput): Promise<unknown>;
}

const account = (input: RouteInput) => input.params.accountId ?? '';
const param = (input: RouteInput, name: string) => input.params[name] ?? '';
/** Which list of which account a page token pages through (tokens are sealed to it: ./page-tokens). */
const listOf = (input: RouteInput, ...segments: string[]) => [account(input), ...segments].join('/');
/** The page a list route asks for, its token opened (a token sealed for another list is 400). */
const page = async (rt: ServiceRuntime, input: RouteInput, list: string) => ({
  ...(input.query.pageSize === undefined ? {} : { pageSize: input.query.pageSize }),
  ...(input.query.pageToken === undefined
    ? {}
    : { pageToken: await openPageToken(rt.destinationDeps.cipher, list, input.query.pageToken) }),
});
/** One page of a list route: the token opened, the list read, its next token sealed for the same list. */
async function listRoute<P extends Page<unknown>>(
  rt: ServiceRuntime,
  input: RouteInput,
  list: string,
  read: (request: PageRequest) => Promise<P>,
): Promise<P> {
  return sealPage(rt.destinationDeps.cipher, list, await read(await page(rt, input, list)));
}

/** The failures a save, rotation or validation answers with: the product doc's "Error when saving credentials". */
const PROBE_ERRORS = [
  'bucketNotFound',
  'missingPermissions',
  'credentialsInvalid',
  'tokenExchangeRefused',
  'forbidden',
  'destinationRejected',
  'destinationUnavailable',
] as const satisfies readonly ErrorCode[];

const A = '/v1/accounts/:accountId';

/** A destination as its GET shows it: what its ETag is computed from, whichever route answered it. */
const destinationView = (body: unknown): unknown => api.destinationSchema.parse(body);
/** If-Match checked against the destination as it is when the write happens. */
const matching =
  (input: RouteInput): Precondition =>
  (current) =>
    requireMatch(input.ifMatch, destinationView(current));
const itself = (body: unknown): unknown => body;
/** Notification settings as their GET shows them: the secret a PUT answers with once is left out of the ETag. */
const settingsView = (body: unknown): unknown => {
  const settings = body as z.output<typeof api.notificationSettingsSchema>;
  if (!settings.webhook) return settings;
  const { secret: _secret, ...webhook } = settings.webhook;
  return { ...settings, webhook };
};
/** The answer to a PUT: the secret, when the write made one, inside the webhook it signs. */
const withSecret = ({ webhookSecret, ...settings }: WrittenNotificationSettings) => ({
  ...settings,
  webhook: settings.webhook && {
    ...settings.webhook,
    ...(webhookSecret === undefined ? {} : { secret: webhookSecret }),
  },
});
/** A run as its ETag sees it: the first page's token is sealed afresh on every read, so it is left out. */
const withoutFreshTokens = (body: unknown): unknown => {
  const run = body as { files?: Record<string, unknown> };
  return run.files === undefined ? run : { ...run, files: { ...run.files, nextPageToken: undefined } };
};

/**
 * Every route of the management API, the one table the router, the CLI and the OpenAPI document read. Account
 * routes act inside their account: ids are looked up under it, so another account's data is simply not found.
 */
export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/destinations`,
    summary: "The account's destinations (keys are never shown)",
    query: api.pageQuerySchema,
    ok: { status: 200, description: 'One page of destinations', schema: api.destinationPageSchema },
    errors: ['invalidQuery'],
    handle: (rt, input) =>
      listRoute(rt, input, listOf(input, 'destinations'), (p) =>
        listDestinations(rt.ctx.state, account(input), p),
      ),
  },
  {
    method: 'POST',
    role: 'platform',
    path: `${A}/destinations`,
    summary:
      'Save a bucket and its service account key, or its grant to the account principal ("Save Credentials")',
    description:
      'Checks every field first and lists every violation (values are never echoed), then probes the bucket ' +
      'with the key, or as the account principal for auth {"type": "grant"}: it must hold ' +
      'storage.objects.create and storage.objects.get; one small probe object is written once per destination. ' +
      'A retention policy is a warning, not a failure.',
    body: api.newDestinationBody,
    ok: {
      status: 201,
      description: 'Saved; a key is stored encrypted, a grant names its principal, roles and commands',
      schema: api.checkedDestinationSchema,
      location: (params, body) =>
        `/v1/accounts/${encodeURIComponent(params.accountId ?? '')}/destinations/${encodeURIComponent(
          (body as z.output<typeof api.checkedDestinationSchema>).destinationId,
        )}`,
    },
    errors: ['invalidDestination', 'destinationExists', 'nicknameTaken', ...PROBE_ERRORS],
    etag: destinationView,
    handle: (rt, input) => {
      const { key, auth, destinationId, ...fields } = input.body as z.output<typeof api.newDestinationBody>;
      return registerDestination(
        rt.destinationDeps,
        { ...fields, accountId: account(input), destinationId: destinationId ?? `dst-${randomUUID()}` },
        auth ?? key,
      );
    },
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/principal`,
    summary: "The account's principal: whom to grant the bucket's roles instead of handing over a key",
    description:
      'Created on first use (one Google service account per account). Grant it roles/storage.objectCreator and ' +
      'roles/storage.objectViewer on the bucket, then save the destination with auth {"type": "grant"}.',
    query: api.principalQuerySchema,
    ok: {
      status: 200,
      description: 'The principal, the roles and the commands',
      schema: api.principalSchema,
    },
    errors: ['invalidQuery', 'grantsNotEnabled', 'principalUnavailable'],
    handle: async (rt, input) => {
      const { bucket } = input.query;
      if (bucket !== undefined && !bucketNameSchema.safeParse(bucket).success)
        throw inputError('invalidQuery', 'bucket: is not a valid bucket name');
      const principal = await accountPrincipal(rt.destinationDeps, account(input));
      return { accountId: account(input), ...grantInstructions(bucket ?? 'BUCKET', principal) };
    },
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/destinations/:destinationId`,
    summary: 'One destination',
    ok: { status: 200, description: 'The destination', schema: api.destinationSchema },
    errors: ['destinationNotFound'],
    etag: destinationView,
    handle: async (rt, input) =>
      publicDestination(await getDestination(rt.ctx.state, account(input), param(input, 'destinationId'))),
  },
  {
    method: 'PUT',
    role: 'platform',
    path: `${A}/destinations/:destinationId/key`,
    summary: 'Replace the key (after probing the bucket with the new one)',
    body: api.rotateKeyBody,
    ok: { status: 200, description: 'The new key is in use', schema: api.checkedDestinationSchema },
    errors: ['destinationNotFound', 'invalidKey', 'preconditionFailed', ...PROBE_ERRORS],
    ifMatch: true,
    etag: destinationView,
    handle: (rt, input) =>
      rotateDestinationKey(
        rt.destinationDeps,
        account(input),
        param(input, 'destinationId'),
        (input.body as z.output<typeof api.rotateKeyBody>).key,
        matching(input),
      ),
  },
  {
    method: 'PATCH',
    role: 'platform',
    path: `${A}/destinations/:destinationId`,
    summary: 'Rename a destination (JSON Merge Patch)',
    description:
      'An RFC 7396 merge patch (application/merge-patch+json) of the destination; only `nickname` can change ' +
      'today, unique within the account as on create. An empty patch changes nothing.',
    body: api.destinationPatchBody,
    mediaType: 'application/merge-patch+json',
    ok: { status: 200, description: 'The destination after the patch', schema: api.destinationSchema },
    errors: ['destinationNotFound', 'invalidDestination', 'nicknameTaken', 'preconditionFailed'],
    ifMatch: true,
    etag: destinationView,
    handle: async (rt, input) => {
      const { nickname } = input.body as z.output<typeof api.destinationPatchBody>;
      const id = param(input, 'destinationId');
      if (nickname !== undefined)
        return renameDestination(rt.ctx, account(input), id, nickname, matching(input));
      const current = publicDestination(await getDestination(rt.ctx.state, account(input), id));
      matching(input)(current);
      return current;
    },
  },
  {
    method: 'POST',
    role: 'platform',
    path: `${A}/destinations/:destinationId/validate`,
    summary: 'Probe the bucket with the stored key now; restart the exports it fixes',
    ok: { status: 200, description: 'The key works', schema: api.validationSchema },
    errors: ['destinationNotFound', ...PROBE_ERRORS],
    handle: async (rt, input) => ({
      valid: true,
      ...(await validateAndRestart(
        rt.ctx,
        rt.destinationDeps,
        account(input),
        param(input, 'destinationId'),
      )),
    }),
  },
  {
    method: 'DELETE',
    role: 'platform',
    path: `${A}/destinations/:destinationId`,
    summary: 'Delete the destination and its key',
    ok: { status: 204, description: 'Deleted' },
    errors: ['destinationNotFound', 'preconditionFailed'],
    ifMatch: true,
    handle: (rt, input) =>
      deleteDestination(rt.ctx.state, account(input), param(input, 'destinationId'), matching(input)),
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/exports`,
    summary: "The account's exports, with status and health",
    query: api.pageQuerySchema,
    ok: { status: 200, description: 'One page of exports', schema: api.exportPageSchema },
    errors: ['invalidQuery'],
    handle: async (rt, input) =>
      withPublicFailures(
        await listRoute(rt, input, listOf(input, 'exports'), (p) => listExports(rt.ctx, account(input), p)),
      ),
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/exports/:exportId`,
    summary: 'One export: status, health, notices and its recent runs',
    ok: { status: 200, description: 'The export', schema: api.exportDetailSchema },
    errors: ['exportNotFound'],
    etag: itself,
    handle: async (rt, input) => {
      const status = await exportStatus(rt.ctx, account(input), param(input, 'exportId'));
      const recent = await exportRuns(rt.ctx, account(input), param(input, 'exportId'), { pageSize: 10 });
      return withPublicFailures({ ...status, recentRuns: recent.items });
    },
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/exports/:exportId/runs`,
    summary: "An export's runs, newest first",
    query: api.pageQuerySchema,
    ok: { status: 200, description: 'One page of runs', schema: api.runPageSchema },
    errors: ['exportNotFound', 'invalidQuery'],
    handle: (rt, input) =>
      listRoute(rt, input, listOf(input, 'exports', param(input, 'exportId'), 'runs'), (p) =>
        exportRuns(rt.ctx, account(input), param(input, 'exportId'), p),
      ),
  },
  {
    method: 'POST',
    role: 'platform',
    path: `${A}/exports/:exportId/resume`,
    summary: 'Resume a failing or stopped export once its destination works again',
    ok: {
      status: 200,
      description: 'The runs resumed and the export status after',
      schema: api.resumeSchema,
    },
    errors: ['exportNotFound', 'destinationNotFound', ...PROBE_ERRORS],
    // A destination that still fails is answered with its error: resuming into it would only block again.
    handle: (rt, input) =>
      restartExport(rt.ctx, rt.destinationDeps, account(input), param(input, 'exportId')),
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/runs/:runId`,
    summary: 'One run: status, counts and its first page of files',
    ok: { status: 200, description: 'The run', schema: api.runDetailSchema },
    errors: ['runNotFound'],
    etag: withoutFreshTokens,
    handle: async (rt, input) => {
      const run = await runStatus(rt.ctx, account(input), param(input, 'runId'));
      // Its first page of files continues at …/runs/{runId}/files: the token is sealed for that list.
      const files = listOf(input, 'runs', param(input, 'runId'), 'files');
      return { ...run, files: await sealPage(rt.destinationDeps.cipher, files, run.files) };
    },
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/runs/:runId/files`,
    summary: "A run's files, in chunk order",
    query: api.pageQuerySchema,
    ok: { status: 200, description: 'One page of files', schema: api.filePageSchema },
    errors: ['runNotFound', 'invalidQuery'],
    handle: (rt, input) =>
      listRoute(rt, input, listOf(input, 'runs', param(input, 'runId'), 'files'), (p) =>
        runFiles(rt.ctx, account(input), param(input, 'runId'), p),
      ),
  },
  {
    method: 'GET',
    role: 'platform',
    path: `${A}/notification-settings`,
    summary: "Who is told about the account's export notices (the webhook's secret is never shown)",
    ok: {
      status: 200,
      description: 'The settings (empty until first written)',
      schema: api.notificationSettingsSchema,
    },
    errors: [],
    etag: settingsView,
    handle: (rt, input) => getNotificationSettings(rt.ctx.state, account(input)),
  },
  {
    method: 'PUT',
    role: 'platform',
    path: `${A}/notification-settings`,
    summary: 'Replace who is told: contact addresses and a Standard Webhooks endpoint',
    description:
      "Every notice of the account's exports (failing, stopping, stopped, recovered) is e-mailed to the export's " +
      'creator and to these addresses, and posted to the webhook, signed as Standard Webhooks specifies ' +
      '(webhook-id, webhook-timestamp, webhook-signature; the events are listed under webhooks). The webhook URL ' +
      'must be https on a host that resolves to public addresses only (checked now and at each delivery). The ' +
      'answer to a PUT that sets the webhook, changes its URL or asks for rotateSecret carries the new signing ' +
      'secret: it is stored encrypted and never shown again.',
    body: api.notificationSettingsBody,
    bodyError: 'invalidNotificationSettings',
    ok: { status: 200, description: 'The settings now in force', schema: api.notificationSettingsSchema },
    errors: ['invalidNotificationSettings', 'webhookUrlRefused', 'preconditionFailed'],
    ifMatch: true,
    etag: settingsView,
    handle: async (rt, input) =>
      withSecret(
        await putNotificationSettings(
          {
            ...rt.destinationDeps,
            resolve: (host) => rt.webhooks.sender.resolve(host),
            policy: rt.webhooks.policy,
          },
          account(input),
          input.body,
          (current) => requireMatch(input.ifMatch, settingsView(current)),
        ),
      ),
  },
  {
    method: 'POST',
    role: 'operator',
    path: '/v1/admin/keys/rewrap',
    summary: 'Re-encrypt every stored key under the current key-encryption key (operators)',
    description:
      'Run after making a new key-encryption key current (GCS_EXPORT_KEK, the old one in GCS_EXPORT_KEK_PREVIOUS); ' +
      'once it reports no key left to re-wrap, the previous key can be retired. Idempotent. Only for operators ' +
      '(API_OPERATORS): any other caller gets 403 callerForbidden.',
    ok: { status: 200, description: 'What was re-encrypted', schema: api.rewrapSchema },
    errors: [],
    handle: async (rt) => {
      const deps = { state: rt.ctx.state, cipher: rt.destinationDeps.cipher, logger: rt.ctx.logger };
      return { ...(await rewrapKeys(deps)), webhookSecrets: await rewrapWebhookSecrets(deps) };
    },
  },
];

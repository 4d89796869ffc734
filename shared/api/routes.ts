import { randomUUID } from 'node:crypto';
import type { ServiceRuntime } from '../handlers/service-runtime';
import {
  deleteDestination,
  getDestination,
  listDestinations,
  registerDestination,
  rotateDestinationKey,
  validateDestination,
} from '../domain/destinations/manage-destinations';
import { publicDestination } from '../domain/destinations/destination.schema';
import { inputError } from '../domain/errors';
import { idSchema } from '../domain/ids';
import { parseWithSchema } from '../domain/schema';
import { restartExport } from '../domain/health/restart-export';
import { z } from '../domain/zod';
import { exportStatus, runStatus } from './status';
import type { ApiResponse } from './http-errors';

/** A key may be pasted as the downloaded file's text or sent as the parsed JSON object. */
const keySchema = z
  .union([z.string().min(1), z.record(z.string(), z.unknown())])
  .transform((key) => (typeof key === 'string' ? key : JSON.stringify(key)));

const newDestinationBody = z.strictObject({
  destinationId: idSchema.optional(),
  nickname: z.string(),
  bucket: z.string(),
  key: keySchema,
});
const rotateKeyBody = z.strictObject({ key: keySchema });

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = parseWithSchema(schema, body ?? {});
  if (!parsed.ok)
    throw inputError('invalidBody', parsed.violations.join('; '), { violations: parsed.violations });
  return parsed.value;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below /v1/accounts/{accountId}; `:name` segments are ids. */
  pattern: string;
  handle(
    runtime: ServiceRuntime,
    accountId: string,
    params: Record<string, string>,
    body: unknown,
  ): Promise<ApiResponse>;
}

/** Every route acts inside one account: ids are looked up under it, so another account's data is simply not found. */
export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    pattern: 'destinations',
    handle: async (rt, accountId) => ({
      status: 200,
      body: { destinations: await listDestinations(rt.ctx.state, accountId) },
    }),
  },
  {
    method: 'POST',
    pattern: 'destinations',
    handle: async (rt, accountId, _params, body) => {
      const { key, destinationId, ...fields } = parseBody(newDestinationBody, body);
      const destination = await registerDestination(
        rt.destinationDeps,
        {
          ...fields,
          accountId,
          destinationId: destinationId ?? `dst-${randomUUID().slice(0, 8)}`,
        },
        key,
      );
      return { status: 201, body: destination };
    },
  },
  {
    method: 'GET',
    pattern: 'destinations/:destinationId',
    handle: async (rt, accountId, { destinationId = '' }) => ({
      status: 200,
      body: publicDestination(await getDestination(rt.ctx.state, accountId, destinationId)),
    }),
  },
  {
    method: 'PUT',
    pattern: 'destinations/:destinationId/key',
    handle: async (rt, accountId, { destinationId = '' }, body) => ({
      status: 200,
      body: await rotateDestinationKey(
        rt.destinationDeps,
        accountId,
        destinationId,
        parseBody(rotateKeyBody, body).key,
      ),
    }),
  },
  {
    method: 'POST',
    pattern: 'destinations/:destinationId/validate',
    handle: async (rt, accountId, { destinationId = '' }) => ({
      status: 200,
      body: {
        valid: true,
        destination: await validateDestination(rt.destinationDeps, accountId, destinationId),
      },
    }),
  },
  {
    method: 'DELETE',
    pattern: 'destinations/:destinationId',
    handle: async (rt, accountId, { destinationId = '' }) => {
      await deleteDestination(rt.ctx.state, accountId, destinationId);
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: 'exports/:exportId',
    handle: async (rt, accountId, { exportId = '' }) => ({
      status: 200,
      body: await exportStatus(rt.ctx, accountId, exportId),
    }),
  },
  {
    method: 'POST',
    pattern: 'exports/:exportId/resume',
    handle: async (rt, accountId, { exportId = '' }) => ({
      status: 200,
      body: await restartExport(rt.ctx, rt.destinationDeps, accountId, exportId),
    }),
  },
  {
    method: 'GET',
    pattern: 'runs/:runId',
    handle: async (rt, accountId, { runId = '' }) => ({
      status: 200,
      body: await runStatus(rt.ctx, accountId, runId),
    }),
  },
];

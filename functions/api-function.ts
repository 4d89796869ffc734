import type { HttpFunction } from '@google-cloud/functions-framework';
import { routeApiRequest } from '../shared/api/router';
import { instanceRuntime } from '../shared/composition/instance';
import { traceFrom } from '../shared/adapters/json-logger';

/**
 * The management API (destinations, export status, resume). Cloud Run IAM authenticates callers; every route is
 * scoped to the account in its path. Request bodies carry keys, so they are never logged.
 */
export const apiFunction: HttpFunction = async (req, res) => {
  const base = await instanceRuntime();
  const trace = traceFrom(req.header('traceparent'), process.env.GOOGLE_CLOUD_PROJECT);
  const runtime = {
    ...base,
    ctx: { ...base.ctx, logger: base.ctx.logger.child({ function: 'api' }, trace) },
  };
  const response = await routeApiRequest(runtime, {
    method: req.method,
    path: req.path,
    body: req.body as unknown,
  });
  res.setHeader('Cache-Control', 'no-store');
  if (response.body === undefined) res.status(response.status).end();
  else res.status(response.status).json(response.body);
};

import type { HttpFunction } from '@google-cloud/functions-framework';
import { serveApiHttp } from '../shared/api/http-api';
import { apiError, PROBLEM_JSON } from '../shared/api/http-errors';
import { instanceRuntime } from '../shared/composition/instance';
import { traceFrom } from '../shared/adapters/json-logger';
import { ownedBody } from './own-request-bodies';

/**
 * The management API (destinations, exports, runs). Cloud Run IAM lets only invokers in; inside, the caller's ID
 * token is verified against the configured service accounts, and every route is scoped to the account in its path.
 * Request bodies carry keys: the framework never parses them (own-request-bodies.ts), and they are never logged.
 */
export const apiFunction: HttpFunction = async (req, res) => {
  const owned = ownedBody(req);
  res.setHeader('Cache-Control', 'no-store');
  if (!owned) {
    // The framework parsed this body: answering would mean trusting its parser. Closed, loudly.
    const refused = apiError('unexpected', 'the request body guard is not installed');
    res.status(refused.status).type(PROBLEM_JSON).send(JSON.stringify(refused.body));
    return;
  }
  const base = await instanceRuntime();
  const trace = traceFrom(req.header('traceparent'), process.env.GOOGLE_CLOUD_PROJECT);
  const runtime = {
    ...base,
    ctx: { ...base.ctx, logger: base.ctx.logger.child({ function: 'api' }, trace) },
  };
  const response = await serveApiHttp(runtime, {
    method: req.method,
    url: req.originalUrl,
    headers: owned.headers,
    body: req,
  });
  res.status(response.status).set(response.headers);
  if (response.body === undefined) res.end();
  else res.send(response.body);
};

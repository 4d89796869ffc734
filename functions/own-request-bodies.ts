import { createRequire } from 'node:module';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';

/**
 * The Functions Framework parses every request body before a function runs (body-parser: any content type, gzip
 * inflated, up to 1 GB), and its error handler prints a body it cannot parse to stderr, which is Cloud Logging; a
 * malformed key rotation would log the key. The framework has no option to turn that off, so for the api function
 * only, the server it builds hands its request listeners a request whose body they cannot see: the body headers
 * are moved aside (body-parser then skips the request) and the function reads the body itself, bounded.
 *
 * This reaches into the framework's server module, which is not a public API. If it ever changes shape, the
 * function refuses to start rather than run with the framework's parsing (a system test runs the real framework).
 */

const OWNED = Symbol.for('gcs-export.ownedBody');
const BODY_HEADERS = ['content-length', 'transfer-encoding'] as const;

type GetServer = (userFunction: unknown, options: unknown) => Server;
interface FrameworkServerModule {
  getServer: GetServer & { [OWNED]?: Set<unknown> };
}

/** The request's own body headers, for a function whose body the framework never saw. */
export interface OwnedBody {
  headers: IncomingHttpHeaders;
}

function frameworkServer(): FrameworkServerModule {
  const load = createRequire(__filename);
  const entry = load.resolve('@google-cloud/functions-framework');
  const loaded = load(path.join(path.dirname(entry), 'server.js')) as Partial<FrameworkServerModule>;
  if (typeof loaded.getServer !== 'function')
    throw new Error(
      'the Functions Framework changed: getServer not found; cannot keep request bodies unparsed',
    );
  return loaded as FrameworkServerModule;
}

/** Hides each request's body from the framework's parsers, keeping its headers for the function. */
function hideBodies(server: Server): Server {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const owned: OwnedBody = { headers: { ...req.headers } };
    Object.defineProperty(req, OWNED, { value: owned });
    for (const name of BODY_HEADERS) delete req.headers[name];
    for (const listener of listeners) listener.call(server, req, res);
  });
  return server;
}

/** Makes the framework leave the bodies of `handler`'s requests unread. Idempotent. */
export function ownRequestBodies(handler: unknown): void {
  const module = frameworkServer();
  const owners = module.getServer[OWNED];
  if (owners) {
    owners.add(handler);
    return;
  }
  const original = module.getServer;
  const handlers = new Set<unknown>([handler]);
  const wrapped: FrameworkServerModule['getServer'] = (userFunction, options) => {
    const server = original(userFunction, options);
    return handlers.has(userFunction) ? hideBodies(server) : server;
  };
  wrapped[OWNED] = handlers;
  module.getServer = wrapped;
}

/** The body headers of a request whose body the framework left unread, or undefined if it read it. */
export const ownedBody = (req: IncomingMessage): OwnedBody | undefined =>
  (req as IncomingMessage & { [OWNED]?: OwnedBody })[OWNED];

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { serveApiHttp } from '../../api/http-api';
import { callerVerifier } from '../../composition/callers';
import type { LocalRuntime } from '../../composition/local';
import type { CommonOptions } from '../runtime';
import { cliConfig, openRuntime, printResult } from '../runtime';

interface ServeOptions extends CommonOptions {
  port: number;
  host: string;
}

const port = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new InvalidArgumentError('must be a port number (0 for any free port)');
  return parsed;
};

/** The api function's routes over node:http, on the local data folder (the same serveApiHttp). */
export function apiServer(runtime: LocalRuntime): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    void serveApiHttp(runtime, {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: req,
    }).then((response) => {
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    });
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the management API (the api function) locally, on the data folder')
    .option('--port <port>', 'port (0: any free port)', port, 8080)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<ServeOptions>();
      const config = cliConfig(options);
      // Every request needs the token; without a configured one, a fresh one is made and shown once.
      const generated = config.api.bearerToken === undefined;
      const token = config.api.bearerToken ?? randomBytes(24).toString('base64url');
      const runtime = await openRuntime(config, { callers: callerVerifier({ bearerToken: token }) });
      const server = apiServer(runtime);
      await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
      const { port: bound } = server.address() as AddressInfo;
      const url = `http://${options.host}:${bound}`;
      printResult(
        options,
        [
          `gcs-export api on ${url} (data ${config.dataDir}); GET ${url}/openapi.json needs no token`,
          generated
            ? `token (shown once): ${token}\n  curl -H "Authorization: Bearer ${token}" ${url}/v1/accounts/ACCOUNT/destinations`
            : 'token: GCS_EXPORT_API_TOKEN',
          'Ctrl-C stops it.',
        ].join('\n'),
        { url, ...(generated ? { token } : {}) },
      );
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await runtime.close();
    });
}

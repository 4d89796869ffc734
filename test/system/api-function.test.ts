import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { HostedFunction } from '../support/functions-host';
import { buildFunctions, hostFunction, REPO_ROOT } from '../support/functions-host';
import type { LocalGoogle } from '../support/id-tokens';
import { startLocalGoogle } from '../support/id-tokens';
import { pollUntil } from '../support/poll';
import { serviceAccountKey } from '../support/service-account-key';
import { tempDir } from '../support/temp-dir';

const TOKEN = randomBytes(24).toString('base64url');
const ACCOUNT = '/v1/accounts/acct-sys';
const PLATFORM = 'platform@acme-exports.iam.gserviceaccount.com';
const AUDIENCE = 'https://api-acme.a.run.app';

interface Answer {
  status: number;
  type: string | null;
  text: string;
}

async function send(
  url: string,
  method: string,
  options: { token?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/**
 * Streams `bytes` with no Content-Length (chunked) and resolves with the answer, which may come before the body was
 * sent: the server refuses early and closes the connection, so the rest of the upload fails (EPIPE), as it should.
 */
function streamed(url: string, headers: Record<string, string>, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? null, text }),
      );
    });
    // A broken upload is expected once the server answered; without an answer it is a failure.
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPIPE' && code !== 'ECONNRESET') reject(error);
    });
    req.on('close', () => setImmediate(() => reject(new Error('the connection closed without an answer'))));
    const send = (at: number): void => {
      if (at >= bytes.length) {
        req.end();
        return;
      }
      req.write(bytes.subarray(at, at + 64 * 1024), (error) => {
        if (!error) send(at + 64 * 1024);
      });
    };
    send(0);
  });
}

describe('system: the api function under the real Functions Framework', () => {
  const dir = tempDir('api-function');
  let api: HostedFunction;
  const url = (route: string) => `${api.url}${route}`;

  beforeAll(async () => {
    await buildFunctions();
    const data = path.join(dir.path, 'data');
    mkdirSync(path.join(data, 'buckets', 'customer-bucket'), { recursive: true });
    api = await hostFunction('api', 'http', {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GCS_EXPORT_DATA_DIR: data,
      GCS_EXPORT_API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    await api?.stop();
    dir.remove();
  });

  it('answers a malformed key rotation with a JSON 400, and no trace of the key reaches stdout or stderr', async () => {
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    const malformed = `{"key": {"type": "service_account", "private_key": "${marker}", "client_email": "x",}}`;
    for (const body of [malformed, `{"key": "${marker}"`, `{"key": "${marker}", "extra": "${marker}"}`]) {
      const answer = await send(url(`${ACCOUNT}/destinations/none/key`), 'PUT', { token: TOKEN, body });
      expect(answer.status).toBe(400);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'invalidBody' } });
      expect(answer.text).not.toContain(marker);
    }
    await pollUntil('three request lines in the log', () =>
      Promise.resolve((api.log().match(/"status":400/g) ?? []).length >= 3 ? true : undefined),
    );
    expect(api.log()).not.toContain(marker);
    expect(api.log()).toContain('"code":"invalidBody"');
  });

  it('refuses a gzip bomb (200 KB inflating to 200 MB) with a JSON 413, declared or streamed', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
    const headers = { 'content-encoding': 'gzip' };
    const declared = await send(url(`${ACCOUNT}/destinations`), 'POST', {
      token: TOKEN,
      body: bomb,
      headers,
    });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.text)).toMatchObject({ error: { code: 'bodyTooLarge' } });
    const chunked = await streamed(
      url(`${ACCOUNT}/destinations`),
      { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      bomb,
    );
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.text)).toMatchObject({ error: { code: 'bodyTooLarge' } });
    // Still serving.
    expect((await send(url(`${ACCOUNT}/destinations`), 'GET', { token: TOKEN })).status).toBe(200);
  });

  it('saves a destination with a key, and no line of the key is logged', async () => {
    const key = serviceAccountKey();
    const answer = await send(url(`${ACCOUNT}/destinations`), 'POST', {
      token: TOKEN,
      body: JSON.stringify({ destinationId: 'main', nickname: 'Main', bucket: 'customer-bucket', key }),
    });
    expect(answer.status).toBe(201);
    const pem = (JSON.parse(key) as { private_key: string }).private_key
      .split('\n')
      .filter((l) => l.length === 64);
    for (const line of pem) {
      expect(answer.text).not.toContain(line);
      expect(api.log()).not.toContain(line);
    }
  });

  it.each([
    ['no token', undefined, 401],
    ['a wrong token', 'not-the-token-0123456789', 401],
  ])('refuses %s with JSON, and serves /openapi.json to anyone', async (_name, token, status) => {
    const refused = await send(url(`${ACCOUNT}/destinations`), 'GET', token ? { token } : {});
    expect(refused.status).toBe(status);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await send(url('/openapi.json'), 'GET')).status).toBe(200);
  });

  it('answers an unknown route with JSON, never an HTML page', async () => {
    const answer = await send(url('/nothing/here'), 'GET', { token: TOKEN });
    expect(answer.status).toBe(404);
    expect(answer.type).toMatch(/^application\/problem\+json/);
  });
});

describe('system: the api function checks Google ID tokens against its configured callers', () => {
  const dir = tempDir('api-id-tokens');
  let api: HostedFunction;
  let google: LocalGoogle;

  beforeAll(async () => {
    await buildFunctions();
    google = await startLocalGoogle();
    api = await hostFunction('api', 'http', {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GCS_EXPORT_DATA_DIR: path.join(dir.path, 'data'),
      API_ALLOWED_CALLERS: PLATFORM,
      API_AUDIENCE: AUDIENCE,
      API_ID_TOKEN_CERTS_URL: google.certsUrl,
      LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    await api?.stop();
    await google?.close();
    dir.remove();
  });

  it.each([
    ['a configured service account', () => google.idToken({ email: PLATFORM, audience: AUDIENCE }), 200],
    [
      'another service account (an invoker binding too wide): 403',
      () => google.idToken({ email: 'other@x-project.iam.gserviceaccount.com', audience: AUDIENCE }),
      403,
    ],
    [
      'a token minted for another service: 401',
      () => google.idToken({ email: PLATFORM, audience: 'https://other.a.run.app' }),
      401,
    ],
    [
      'a token Google never signed: 401',
      () => google.foreignToken({ email: PLATFORM, audience: AUDIENCE }),
      401,
    ],
  ])('answers %s', async (_name, token, status) => {
    const answer = await send(`${api.url}${ACCOUNT}/destinations`, 'GET', { token: token() });
    expect(answer.status).toBe(status);
  });
});

describe('system: gcs-export serve (the built CLI)', () => {
  const dir = tempDir('serve-cli');
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child?.pid) process.kill(child.pid, 'SIGTERM');
    dir.remove();
  });

  it('prints its URL and a one-time token, answers /openapi.json to anyone and the API only with the token', async () => {
    await buildFunctions();
    const { GCS_EXPORT_API_TOKEN: _unset, ...env } = process.env;
    child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'dist/shared/cli/main.js'), 'serve', '--port', '0', '--data', dir.path, '--json'],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const started = await pollUntil('gcs-export serve to print its URL', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      return Promise.resolve(line ? (JSON.parse(line) as { url: string; token: string }) : undefined);
    });
    expect(started.token.length).toBeGreaterThanOrEqual(32);
    expect((await send(`${started.url}/openapi.json`, 'GET')).status).toBe(200);
    expect((await send(`${started.url}${ACCOUNT}/destinations`, 'GET')).status).toBe(401);
    const listed = await send(`${started.url}${ACCOUNT}/destinations`, 'GET', { token: started.token });
    expect(listed).toMatchObject({ status: 200 });
    expect(JSON.parse(listed.text)).toEqual({ items: [] });
  });
});

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { JsonLogger } from '../../shared/adapters/json-logger';
import { apiServer } from '../../shared/cli/commands/serve';
import { callerVerifier } from '../../shared/composition/callers';
import { createLocalRuntime } from '../../shared/composition/local';
import { loadConfig } from '../../shared/config';
import { cli } from '../support/cli';
import { eventLines, requestFields } from '../support/local-harness';
import { serviceAccountKey } from '../support/service-account-key';
import { tempDir } from '../support/temp-dir';

const secretsOf = (keyText: string): string[] =>
  (JSON.parse(keyText) as { private_key: string }).private_key
    .split('\n')
    .filter((line) => line.length === 64);

function everyFile(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const at = path.join(dir, name);
    return statSync(at).isDirectory() ? everyFile(at) : [at];
  });
}

describe('no key material in clear in the local data folder, logs or answers, after a full scenario', () => {
  const dir = tempDir('no-key-local');
  afterAll(() => dir.remove());

  it('registers, rotates, validates, exports, re-wraps and refuses malformed bodies: then scans everything', async () => {
    const data = path.join(dir.path, 'data');
    const outputs: string[] = [];
    const keys = [serviceAccountKey(), serviceAccountKey(), serviceAccountKey()];
    const keyFile = (i: number) => {
      const at = path.join(dir.path, `key-${i}.json`);
      writeFileSync(at, keys[i] ?? '');
      return at;
    };
    const run = async (...args: string[]) => {
      const result = await cli(...args, '--data', data, '--verbose', '--json');
      outputs.push(result.stdout, result.stderr);
      expect({ args, code: result.code }).toEqual({ args, code: 0 });
    };
    await run(
      'destinations',
      'add',
      '--account',
      'a',
      '--nickname',
      'N',
      '--bucket',
      'cust',
      '--id',
      'd',
      '--key',
      keyFile(0),
      '--create-bucket',
    );
    await run('destinations', 'rotate-key', '--account', 'a', 'd', '--key', keyFile(1));
    await run('destinations', 'validate', '--account', 'a', 'd');
    await run('destinations', 'list', '--account', 'a');
    const source = path.join(data, 'buckets', 'platform-source', 'events');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'a.ndjson'), eventLines(300));
    const request = path.join(dir.path, 'request.json');
    writeFileSync(
      request,
      JSON.stringify(requestFields({ requestId: 'r', accountId: 'a', exportId: 'e', destinationId: 'd' })),
    );
    await run('run', request);
    process.env.GCS_EXPORT_KEK = randomBytes(32).toString('base64');
    process.env.GCS_EXPORT_KEK_PREVIOUS = readFileSync(path.join(data, 'kek.key'), 'utf8').trim();
    try {
      await run('keys', 'rewrap');
    } finally {
      delete process.env.GCS_EXPORT_KEK;
      delete process.env.GCS_EXPORT_KEK_PREVIOUS;
    }

    // The served API, refusing bodies that carry a whole key.
    const logs: string[] = [];
    const runtime = await createLocalRuntime({
      config: loadConfig({}),
      dataDir: data,
      persistState: true,
      logger: new JsonLogger({ level: 'debug', write: (line) => logs.push(line) }),
      callers: callerVerifier({ bearerToken: 'local-secret-token-0123' }),
    });
    const server = apiServer(runtime);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/accounts/a/destinations/d/key`;
    const leaked = keys[2] ?? '';
    for (const body of [`{"key": ${JSON.stringify(leaked)},}`, JSON.stringify({ key: leaked, extra: 1 })]) {
      const response = await fetch(url, {
        method: 'PUT',
        headers: { authorization: 'Bearer local-secret-token-0123', 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      outputs.push(await response.text());
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.close();

    const files = everyFile(data);
    expect(files.some((f) => f.endsWith('state.json'))).toBe(true);
    const places: [string, string][] = [
      ...files.map((f): [string, string] => [path.relative(data, f), readFileSync(f).toString('latin1')]),
      ['CLI output and logs', outputs.join('\n')],
      ['API logs', logs.join('\n')],
    ];
    for (const [place, text] of places) {
      expect({ place, marker: text.includes('PRIVATE KEY') }).toEqual({ place, marker: false });
      for (const key of keys)
        for (const line of secretsOf(key))
          expect({ place, found: text.includes(line) }).toEqual({ place, found: false });
    }
  });
});

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, lastJson } from '../../support/cli';
import { serviceAccountKey } from '../../support/service-account-key';
import { tempDir } from '../../support/temp-dir';

describe('gcs-export CLI', () => {
  const dir = tempDir('cli');
  afterAll(() => dir.remove());

  it('demo exports a synthetic source end to end and prints a JSON summary last', async () => {
    const data = path.join(dir.path, 'demo');
    const { stdout, code } = await cli(
      'demo',
      '--events',
      '3000',
      '--chunk-mb',
      '1',
      '--data',
      data,
      '--json',
    );
    expect(code).toBe(0);
    const summary = lastJson(stdout);
    expect(summary).toMatchObject({ status: 'succeeded', consistent: true, generatedMalformed: 24 });
    expect(summary.records).toBe(Number(summary.generatedLines) - Number(summary.quarantined));
    expect(summary.sourceRecords).toBe(summary.generatedLines);
    expect(Number(summary.files)).toBeGreaterThan(20);
    expect(existsSync(String(summary.manifest))).toBe(true);
    const manifest = JSON.parse(readFileSync(String(summary.manifest), 'utf8')) as {
      totals: { records: number };
    };
    expect(manifest.totals.records).toBe(summary.records);
    expect(stdout).toContain('event=Checkout-Started/dt=');
  });

  it('reuses the generated source on a second demo and exports it again as a new run', async () => {
    const data = path.join(dir.path, 'demo-again');
    const first = lastJson((await cli('demo', '--events', '2000', '--data', data, '--json')).stdout);
    const second = lastJson((await cli('demo', '--events', '2000', '--data', data, '--json')).stdout);
    expect(second.runId).not.toBe(first.runId);
    expect(second).toMatchObject({ status: 'succeeded', consistent: true, records: first.records });
    expect(readdirSync(path.join(data, 'buckets', 'demo-platform-events', 'demo'))).toHaveLength(1);
  });

  it('refuses to share a data folder with a running process, and takes over a stale lock', async () => {
    const data = path.join(dir.path, 'locked');
    mkdirSync(data, { recursive: true });
    writeFileSync(path.join(data, '.lock'), String(process.ppid));
    const refused = await cli('destinations', 'list', '--account', 'a1', '--data', data);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is in use by another gcs-export process/);
    writeFileSync(path.join(data, '.lock'), '999999999');
    expect((await cli('destinations', 'list', '--account', 'a1', '--data', data)).code).toBe(0);
    expect(existsSync(path.join(data, '.lock'))).toBe(false);
  });

  it('registers a destination with a key, stores it encrypted and never prints it', async () => {
    const data = path.join(dir.path, 'destinations');
    const keyFile = path.join(dir.path, 'key.json');
    const key = serviceAccountKey();
    writeFileSync(keyFile, key);
    const added = await cli(
      'destinations',
      'add',
      '--account',
      'a1',
      '--nickname',
      'Main',
      '--bucket',
      'cust-bucket',
      '--key',
      keyFile,
      '--id',
      'd1',
      '--create-bucket',
      '--data',
      data,
      '--json',
    );
    expect(added.code).toBe(0);
    expect(lastJson(added.stdout)).toMatchObject({
      destinationId: 'd1',
      key: { clientEmail: 'exporter@customer-project.iam.gserviceaccount.com' },
    });
    const listed = await cli('destinations', 'list', '--account', 'a1', '--data', data, '--json');
    const privateBody = (JSON.parse(key) as { private_key: string }).private_key.split('\n')[1] ?? '';
    for (const output of [added.stdout, listed.stdout, readFileSync(path.join(data, 'state.json'), 'utf8')]) {
      expect(output).not.toContain(privateBody);
      expect(output).not.toContain('BEGIN PRIVATE KEY');
    }
    expect(lastJson(listed.stdout)).toEqual({
      items: [expect.objectContaining({ destinationId: 'd1', bucket: 'cust-bucket' })],
    });
  });

  it.each([
    [
      'a key whose token_uri is not Google',
      serviceAccountKey({ tokenUri: 'https://evil.example.com/token' }),
      'cust-bucket',
      /token_uri: must be Google's token endpoint/,
    ],
    ['a bucket that does not exist', serviceAccountKey(), 'missing-bucket', /The bucket was not found/],
  ])('refuses to save %s', async (_name, key, bucket, message) => {
    const data = path.join(dir.path, `refuse-${bucket}`);
    const keyFile = path.join(dir.path, `key-${bucket}.json`);
    writeFileSync(keyFile, key);
    const setup = await cli(
      'destinations',
      'add',
      '--account',
      'a1',
      '--nickname',
      'x',
      '--bucket',
      'cust-bucket',
      '--create-bucket',
      '--data',
      data,
    );
    expect(setup.code).toBe(0);
    const result = await cli(
      'destinations',
      'add',
      '--account',
      'a1',
      '--nickname',
      'N',
      '--bucket',
      bucket,
      '--key',
      keyFile,
      '--data',
      data,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('PRIVATE KEY');
  });

  it('run rejects an invalid request file with every violation and exit code 2', async () => {
    const file = path.join(dir.path, 'bad-request.json');
    writeFileSync(file, JSON.stringify({ requestId: 'r', kind: 'users' }));
    const result = await cli('run', file, '--data', path.join(dir.path, 'run'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/kind:[\s\S]*accountId:|accountId:[\s\S]*kind:/);
  });

  it('run exits 2 for a request id already used with other content, and keeps the first run', async () => {
    const data = path.join(dir.path, 'demo');
    const example = JSON.parse(
      readFileSync(path.join(__dirname, '../../fixtures/request.example.json'), 'utf8'),
    ) as Record<string, unknown>;
    const first = path.join(dir.path, 'reused-first.json');
    writeFileSync(first, JSON.stringify({ ...example, requestId: 'reused-id' }));
    expect((await cli('run', first, '--data', data)).code).toBe(0);
    const other = path.join(dir.path, 'reused-other.json');
    writeFileSync(other, JSON.stringify({ ...example, requestId: 'reused-id', events: ['Charged'] }));
    const result = await cli('run', other, '--data', data);
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain('already received with different content');
  });

  it.each([
    ['a missing file', 'missing.json', 'no such file'],
    ['a file that is not JSON', 'not-json.json', 'is not JSON'],
  ])('run explains %s in one line and exits 2, without a stack trace', async (_what, name, message) => {
    const file = path.join(dir.path, name);
    if (name === 'not-json.json') writeFileSync(file, '{ nope');
    const result = await cli('run', file, '--data', path.join(dir.path, 'run'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\s+at /);
  });

  it.each(['run', 'demo', 'check-failures'])('%s --help lists the global options too', async (command) => {
    const help = await cli(command, '--help');
    for (const option of ['--data', '--json', '--verbose']) expect(help.stdout).toContain(option);
  });
});

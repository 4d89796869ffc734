import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { kekIdOf } from '../../../shared/adapters/crypto/aes-gcm-cipher';
import { cli, lastJson } from '../../support/cli';
import { eventLines, requestFields } from '../../support/local-harness';
import { serviceAccountKey } from '../../support/service-account-key';
import { tempDir } from '../../support/temp-dir';

/**
 * CLI parity: destinations, exports, runs and keys through the management API's own routes, in-process on a data
 * folder; `--json` prints the API's answer.
 */
describe('gcs-export destinations|exports|runs|keys (the API routes on the data folder)', () => {
  const dir = tempDir('cli-api');
  const data = path.join(dir.path, 'data');
  const file = (name: string, content: string) => {
    const at = path.join(dir.path, name);
    writeFileSync(at, content);
    return at;
  };
  const json = async (...args: string[]) => {
    const result = await cli(...args, '--data', data, '--json');
    if (result.code !== 0)
      throw new Error(`gcs-export ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return lastJson(result.stdout);
  };
  const savedEnv = { ...process.env };
  afterAll(() => {
    process.env = savedEnv;
    dir.remove();
  });

  it('adds, lists, shows, validates, rotates and removes a destination', async () => {
    const added = await json(
      'destinations',
      'add',
      '--account',
      'a1',
      '--nickname',
      'Main',
      '--bucket',
      'cust',
      '--id',
      'd1',
      '--key',
      file('key1.json', serviceAccountKey()),
      '--create-bucket',
    );
    expect(added).toMatchObject({ destinationId: 'd1', key: { version: 1 }, warnings: [] });
    expect(await json('destinations', 'list', '--account', 'a1')).toMatchObject({
      items: [{ destinationId: 'd1' }],
    });
    expect(await json('destinations', 'show', '--account', 'a1', 'd1')).toMatchObject({ nickname: 'Main' });
    expect(await json('destinations', 'validate', '--account', 'a1', 'd1')).toMatchObject({ valid: true });
    const rotated = await json(
      'destinations',
      'rotate-key',
      '--account',
      'a1',
      'd1',
      '--key',
      file('key2.json', serviceAccountKey()),
    );
    expect(rotated).toMatchObject({ key: { version: 2 } });
    expect(await json('destinations', 'remove', '--account', 'a1', 'd1')).toEqual({ removed: 'd1' });
    const gone = await cli('destinations', 'show', '--account', 'a1', 'd1', '--data', data);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/destinationNotFound: this account has no such destination/);
  });

  it('renames a destination, and refuses a rename, rotation or removal at a stale --if-match', async () => {
    await json(
      'destinations',
      'add',
      '--account',
      'a9',
      '--nickname',
      'Before',
      '--bucket',
      'cust9',
      '--id',
      'd9',
      '--key',
      file('key9.json', serviceAccountKey()),
      '--create-bucket',
    );
    const shown = await cli('destinations', 'show', '--account', 'a9', 'd9', '--data', data);
    const etag = /etag ("[\w-]+")/.exec(shown.stdout)?.[1] ?? '';
    expect(etag).not.toBe('');
    for (const args of [
      ['rename', '--account', 'a9', 'd9', '--nickname', 'Nope'],
      ['rotate-key', '--account', 'a9', 'd9', '--key', file('key9b.json', serviceAccountKey())],
      ['remove', '--account', 'a9', 'd9'],
    ]) {
      const stale = await cli('destinations', ...args, '--if-match', '"stale"', '--data', data);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toMatch(/preconditionFailed/);
    }
    expect(
      await json(
        'destinations',
        'rename',
        '--account',
        'a9',
        'd9',
        '--nickname',
        'After',
        '--if-match',
        etag,
      ),
    ).toMatchObject({ destinationId: 'd9', nickname: 'After', key: { version: 1 } });
    expect(await json('destinations', 'show', '--account', 'a9', 'd9')).toMatchObject({ nickname: 'After' });
    // Gone again: the rewrap below counts the folder's keys.
    expect(await json('destinations', 'remove', '--account', 'a9', 'd9')).toEqual({ removed: 'd9' });
  });

  it('prints each violation of a refused destination once', async () => {
    const refused = await cli(
      'destinations',
      'add',
      '--account',
      'a1',
      '--nickname',
      '',
      '--bucket',
      'B!',
      '--id',
      '-x',
      '--data',
      data,
    );
    expect(refused.code).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines[0]).toBe('gcs-export: invalidDestination:');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines.slice(1)) {
      expect(line).toMatch(/^ {2}\w+: /);
      expect(refused.stderr.split(line.trim()).length - 1).toBe(1);
    }
  });

  it('lists and shows exports, shows runs with their files, and resumes', async () => {
    await json(
      'destinations',
      'add',
      '--account',
      'a2',
      '--nickname',
      'Main',
      '--bucket',
      'cust2',
      '--id',
      'd2',
      '--create-bucket',
    );
    const source = path.join(data, 'buckets', 'platform-source', 'events');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'a.ndjson'), eventLines(500));
    const request = requestFields({
      requestId: 'r1',
      accountId: 'a2',
      exportId: 'daily',
      destinationId: 'd2',
    });
    const run = await json('run', file('request.json', JSON.stringify(request)));
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(await json('exports', 'list', '--account', 'a2')).toMatchObject({
      items: [{ exportId: 'daily', status: 'active', health: { state: 'healthy' } }],
    });
    const shown = await json('exports', 'show', '--account', 'a2', 'daily');
    expect(shown).toMatchObject({
      exportId: 'daily',
      recentRuns: [{ runId: run.runId, status: 'succeeded' }],
    });
    const detail = await json('runs', 'show', '--account', 'a2', String(run.runId));
    expect(detail).toMatchObject({ runId: run.runId, totals: { records: 500 } });
    const files = (detail.files as { items: unknown[] }).items;
    expect(files.length).toBe((detail.totals as { files: number }).files);
    const paged = await json('runs', 'show', '--account', 'a2', String(run.runId), '--page-size', '2');
    expect((paged.files as { items: unknown[] }).items).toHaveLength(2);
    expect(await json('exports', 'resume', '--account', 'a2', 'daily')).toMatchObject({
      runs: [],
      chunks: 0,
    });
    expect(JSON.stringify(detail)).not.toContain('platform-source');

    // An export still writes to d2: removing it is refused (exit 2, naming the export) unless forced.
    const refused = await cli('destinations', 'remove', '--account', 'a2', 'd2', '--data', data);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/destination d2 is still used by export daily: .*--force/);
    expect(await json('destinations', 'show', '--account', 'a2', 'd2')).toMatchObject({
      destinationId: 'd2',
    });
    const forced = await cli('destinations', 'remove', '--account', 'a2', 'd2', '--force', '--data', data);
    expect(forced).toMatchObject({ code: 0, stdout: 'destination d2 removed\n' });
    expect(forced.stderr).toMatch(/^warning: export daily still writes to d2/);
    const gone = await cli('destinations', 'show', '--account', 'a2', 'd2', '--data', data);
    expect(gone.code).toBe(1);
  });

  it('re-wraps every stored key under a new key-encryption key; the folder then opens with the new key alone', async () => {
    await json(
      'destinations',
      'add',
      '--account',
      'a3',
      '--nickname',
      'K',
      '--bucket',
      'cust3',
      '--id',
      'd3',
      '--key',
      file('key3.json', serviceAccountKey()),
      '--create-bucket',
    );
    const old = readFileSync(path.join(data, 'kek.key'), 'utf8').trim();
    const next = randomBytes(32);
    const ciphertext = () => {
      const state = JSON.parse(readFileSync(path.join(data, 'state.json'), 'utf8')) as {
        documents: Record<string, { key?: { ciphertext: string } }>;
      };
      return state.documents['destinations/a3~d3']?.key?.ciphertext ?? '';
    };
    expect(ciphertext().startsWith(`v2.${kekIdOf(Buffer.from(old, 'base64'))}.`)).toBe(true);

    process.env.GCS_EXPORT_KEK = next.toString('base64');
    process.env.GCS_EXPORT_KEK_PREVIOUS = old;
    expect(await json('keys', 'rewrap')).toMatchObject({ rewrapped: 1, current: 0 });
    expect(await json('keys', 'rewrap')).toMatchObject({ rewrapped: 0, current: 1 });
    delete process.env.GCS_EXPORT_KEK;
    delete process.env.GCS_EXPORT_KEK_PREVIOUS;

    expect(ciphertext().startsWith(`v2.${kekIdOf(next)}.`)).toBe(true);
    expect(await json('destinations', 'validate', '--account', 'a3', 'd3')).toMatchObject({ valid: true });
  });
});

// The in-memory Cloud Storage server of test/support/gcs-server, checked two ways: raw HTTP against the JSON API
// documentation (status codes, headers, body shapes) and the real @google-cloud/storage client pointed at it.
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import type { File } from '@google-cloud/storage';
import { IdempotencyStrategy, Storage } from '@google-cloud/storage';
import type { GcsServer, RequestLogEntry } from '../support/gcs-server';
import { startGcsServer } from '../support/gcs-server';

// Client retries wait at least a second each (async-retry's minimum), so the fault tests take a few seconds.
jest.setTimeout(60_000);

const KiB = 1024;
const CHUNK = 256 * KiB;

let server: GcsServer;
let seq = 0;

beforeAll(async () => {
  server = await startGcsServer();
});

afterAll(async () => {
  await server.close();
});

// ---------- helpers ----------

/** A fresh bucket name per test, so tests share the server without sharing state. */
function newBucket(options: { retentionPeriodSeconds?: number } = {}, on: GcsServer = server): string {
  const name = `bucket-${++seq}`;
  on.createBucket(name, options);
  return name;
}

/** Deterministic, non-repeating bytes (a byte-shifted copy would not compare equal). */
function payload(size: number, seed = size): Buffer {
  const out = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** CRC32C and MD5 computed here, independently of the server: base64 of big-endian CRC32C, base64 MD5. */
function expectedHashes(data: Buffer): { crc32c: string; md5Hash: string } {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(data) >>> 0);
  return { crc32c: crc.toString('base64'), md5Hash: createHash('md5').update(data).digest('base64') };
}

const enc = encodeURIComponent;

function api(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${server.url}${path}`, init);
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

// Asymmetric matchers are typed `any`; these keep them out of typed object literals.
const anyString = (): unknown => expect.any(String);
const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);
const containing = (object: object): unknown => expect.objectContaining(object);

function errorShape(code: number, reason: string, message: string | RegExp): unknown {
  const msg = typeof message === 'string' ? message : matching(message);
  return {
    error: {
      code,
      message: msg,
      errors: [containing({ message: msg, domain: 'global', reason })],
    },
  };
}

function mediaUpload(bucket: string, name: string, data: Buffer | string, query = ''): Promise<Response> {
  return api(`/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${enc(name)}${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: data,
  });
}

function multipartBody(metadata: object, data: Buffer, contentType = 'application/octet-stream') {
  const boundary = `b-${++seq}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(metadata)}\r\n`,
    ),
    Buffer.from(`--${boundary}\r\nContent-Type: ${contentType}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--`),
  ]);
  return { body, contentType: `multipart/related; boundary=${boundary}` };
}

function multipartUpload(bucket: string, metadata: object, data: Buffer, query = ''): Promise<Response> {
  const { body, contentType } = multipartBody(metadata, data);
  return api(`/upload/storage/v1/b/${bucket}/o?uploadType=multipart${query}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body,
  });
}

async function startSession(
  bucket: string,
  name: string,
  metadata: object = {},
  query = '',
): Promise<string> {
  const response = await api(
    `/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${enc(name)}${query}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(metadata),
    },
  );
  expect(response.status).toBe(200);
  const location = response.headers.get('location');
  expect(location).toMatch(/\/upload\/storage\/v1\/b\/.+\/o\?.*upload_id=/);
  return location ?? '';
}

function putChunk(session: string, contentRange: string | undefined, data: Buffer = Buffer.alloc(0)) {
  return fetch(session, {
    method: 'PUT',
    headers: contentRange === undefined ? {} : { 'Content-Range': contentRange },
    body: data,
  });
}

/** A client whose every request (resumable ones too) carries x-retry-test-id when given. */
function client(options: { retryTestId?: string; on?: GcsServer; retries?: boolean } = {}): Storage {
  const storage = new Storage({
    apiEndpoint: (options.on ?? server).url,
    projectId: 'test',
    // Retry everything (uploads too) without preconditions; 1 s is the least delay async-retry accepts.
    retryOptions: {
      autoRetry: options.retries ?? true,
      maxRetryDelay: 1,
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    },
  });
  const id = options.retryTestId;
  if (id !== undefined) {
    storage.interceptors.push({
      // Resumable uploads pass `{}` here (no uri) to collect headers, hence the cast.
      request: (reqOpts) => {
        reqOpts.headers = { ...reqOpts.headers, 'x-retry-test-id': id };
        return reqOpts as ReturnType<Storage['interceptors'][number]['request']>;
      },
    });
  }
  return storage;
}

async function createRetryTest(instructions: Record<string, string[]>): Promise<string> {
  const response = await api('/retry_test', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ instructions }),
  });
  expect(response.status).toBe(200);
  const body = await json(response);
  expect(body).toEqual({ id: anyString(), instructions, completed: false, transport: 'HTTP' });
  return String(body.id);
}

async function retryTestState(id: string): Promise<Record<string, unknown>> {
  const response = await api(`/retry_test/${id}`);
  expect(response.status).toBe(200);
  return json(response);
}

function logOf(filter: (entry: RequestLogEntry) => boolean): RequestLogEntry[] {
  return server.requests.filter(filter);
}

interface ClientError {
  code?: number | string;
  message: string;
  errors?: { reason?: string; message?: string }[];
}

async function rejectionOf(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    return error as ClientError;
  }
  throw new Error('expected a rejection');
}

/** Reads a response body until it ends or breaks; returns the bytes received and whether it broke. */
async function readAll(response: Response): Promise<{ bytes: Buffer; broken: boolean }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>)
      chunks.push(Buffer.from(chunk));
    return { bytes: Buffer.concat(chunks), broken: false };
  } catch {
    return { bytes: Buffer.concat(chunks), broken: true };
  }
}

const download = async (file: File): Promise<Buffer> => (await file.download())[0];

// ---------- raw HTTP: the JSON API contract ----------

describe('checksums computed by this test', () => {
  test('match the published CRC32C check value and a known MD5', () => {
    // CRC-32C("123456789") = 0xE3069283 (RFC 3720 / the CRC catalogue's check value).
    expect(expectedHashes(Buffer.from('123456789')).crc32c).toBe(
      Buffer.from('e3069283', 'hex').toString('base64'),
    );
    expect(expectedHashes(Buffer.from('hello world')).md5Hash).toBe('XrY7u+Ae7tCTyyK7j1rNww==');
  });
});

describe('buckets over HTTP', () => {
  test('GET returns the bucket resource; an unknown bucket is 404 notFound in Google error shape', async () => {
    const bucket = newBucket();
    const found = await api(`/storage/v1/b/${bucket}`);
    expect(found.status).toBe(200);
    expect(await json(found)).toMatchObject({ kind: 'storage#bucket', id: bucket, name: bucket });

    const missing = await api(`/storage/v1/b/no-such-bucket-${++seq}`);
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual(errorShape(404, 'notFound', 'The specified bucket does not exist.'));
  });

  test('an upload to an unknown bucket is 404 and an unknown route is 404', async () => {
    const upload = await mediaUpload(`no-such-bucket-${++seq}`, 'x', 'data');
    expect(upload.status).toBe(404);
    expect(await json(upload)).toEqual(errorShape(404, 'notFound', 'The specified bucket does not exist.'));
    const route = await api('/storage/v1/nothing/here');
    expect(route.status).toBe(404);
    expect(await json(route)).toEqual(errorShape(404, 'notFound', 'Not Found'));
  });
});

describe('uploads over HTTP', () => {
  const data = payload(3 * CHUNK + 1234);

  type Upload = (bucket: string, name: string, data: Buffer) => Promise<Response>;
  const uploads: [string, Upload][] = [
    ['uploadType=media', (bucket, name, bytes) => mediaUpload(bucket, name, bytes)],
    ['uploadType=multipart', (bucket, name, bytes) => multipartUpload(bucket, { name }, bytes)],
    [
      'uploadType=resumable, one PUT without Content-Range',
      async (bucket, name, bytes) => putChunk(await startSession(bucket, name), undefined, bytes),
    ],
    [
      'uploadType=resumable, one PUT of bytes 0-*/* (the client without chunkSize)',
      async (bucket, name, bytes) => putChunk(await startSession(bucket, name), 'bytes 0-*/*', bytes),
    ],
    [
      'uploadType=resumable, 256 KiB chunks of bytes a-b/* then a final bytes a-b/total',
      async (bucket, name, bytes) => {
        const session = await startSession(bucket, name);
        let offset = 0;
        for (; offset + CHUNK < bytes.length; offset += CHUNK) {
          const response = await putChunk(
            session,
            `bytes ${offset}-${offset + CHUNK - 1}/*`,
            bytes.subarray(offset, offset + CHUNK),
          );
          expect(response.status).toBe(308);
          expect(response.headers.get('range')).toBe(`bytes=0-${offset + CHUNK - 1}`);
        }
        return putChunk(
          session,
          `bytes ${offset}-${bytes.length - 1}/${bytes.length}`,
          bytes.subarray(offset),
        );
      },
    ],
  ];

  test.each(uploads)('%s stores the bytes and answers the object resource', async (_label, upload) => {
    const bucket = newBucket();
    const name = 'dir/sub dir/obj #1?.bin';
    const response = await upload(bucket, name, data);
    expect(response.status).toBe(200);
    const resource = await json(response);
    expect(resource).toEqual({
      kind: 'storage#object',
      id: `${bucket}/${name}/${String(resource.generation)}`,
      selfLink: `${server.url}/storage/v1/b/${bucket}/o/${enc(name)}`,
      mediaLink: `${server.url}/download/storage/v1/b/${bucket}/o/${enc(name)}?generation=${String(resource.generation)}&alt=media`,
      name,
      bucket,
      generation: matching(/^\d+$/),
      metageneration: '1',
      contentType: 'application/octet-stream',
      storageClass: 'STANDARD',
      size: String(data.length),
      ...expectedHashes(data),
      etag: anyString(),
      timeCreated: matching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated: resource.timeCreated,
      timeStorageClassUpdated: resource.timeCreated,
    });
    expect(server.object(bucket, name)?.data.equals(data)).toBe(true);
  });

  test('multipart metadata sets contentType, contentEncoding and custom metadata', async () => {
    const bucket = newBucket();
    const bytes = Buffer.from('{"a":1}\n');
    const metadata = { name: 'm.json', contentType: 'application/x-ndjson', metadata: { run: 'r1', n: 2 } };
    const response = await multipartUpload(bucket, { ...metadata, contentEncoding: 'identity' }, bytes);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      name: 'm.json',
      contentType: 'application/x-ndjson',
      contentEncoding: 'identity',
      metadata: { run: 'r1', n: '2' },
    });
  });

  test('a missing uploadType is 400 and a missing name is 400 required', async () => {
    const bucket = newBucket();
    const noType = await api(`/upload/storage/v1/b/${bucket}/o?name=x`, { method: 'POST', body: 'x' });
    expect(noType.status).toBe(400);
    expect(await json(noType)).toEqual(
      errorShape(400, 'invalid', /^Upload requests must include an uploadType URL parameter/),
    );
    const noName = await api(`/upload/storage/v1/b/${bucket}/o?uploadType=media`, {
      method: 'POST',
      body: 'x',
    });
    expect(noName.status).toBe(400);
    expect(await json(noName)).toEqual(errorShape(400, 'required', 'Required'));
  });

  test('object names arrive URL-encoded and come back verbatim', async () => {
    const bucket = newBucket();
    const names = [
      'a/b/c.txt',
      'with space',
      'ünïcödé/🚀.json',
      'hash#and?query=1',
      'plus+percent%2F',
      'trailing/',
    ];
    for (const name of names) expect((await mediaUpload(bucket, name, name)).status).toBe(200);
    for (const name of names) {
      const meta = await api(`/storage/v1/b/${bucket}/o/${enc(name)}`);
      expect((await json(meta)).name).toBe(name);
      const media = await api(`/storage/v1/b/${bucket}/o/${enc(name)}?alt=media`);
      expect(await media.text()).toBe(name);
    }
    expect([...server.objects(bucket).keys()].sort()).toEqual([...names].sort());
  });

  test('every write gets a larger generation; metageneration starts at 1', async () => {
    const bucket = newBucket();
    const generations: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const resource = await json(await mediaUpload(bucket, 'same', `v${i}`));
      expect(resource.metageneration).toBe('1');
      generations.push(BigInt(String(resource.generation)));
    }
    expect([...generations].sort((a, b) => (a < b ? -1 : 1))).toEqual(generations);
    expect(new Set(generations).size).toBe(3);
  });
});

describe('resumable sessions over HTTP', () => {
  test('status queries, re-sent bytes and completion follow the documented protocol', async () => {
    const bucket = newBucket();
    const data = payload(2 * CHUNK + 100);
    const session = await startSession(bucket, 'r.bin', { contentType: 'text/csv', metadata: { k: 'v' } });

    const empty = await putChunk(session, 'bytes */*');
    expect(empty.status).toBe(308);
    expect(empty.headers.get('range')).toBeNull();

    expect((await putChunk(session, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK))).status).toBe(308);
    const status = await putChunk(session, `bytes */${data.length}`);
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${CHUNK - 1}`);

    // Re-sending from 0 is allowed; bytes the server already has are skipped.
    const resent = await putChunk(session, `bytes 0-${2 * CHUNK - 1}/*`, data.subarray(0, 2 * CHUNK));
    expect(resent.status).toBe(308);
    expect(resent.headers.get('range')).toBe(`bytes=0-${2 * CHUNK - 1}`);

    // Starting past what the server has is refused.
    const gap = await putChunk(session, `bytes ${2 * CHUNK + 1}-${2 * CHUNK + 1}/*`, Buffer.from('x'));
    expect(gap.status).toBe(400);

    const done = await putChunk(
      session,
      `bytes ${2 * CHUNK}-${data.length - 1}/${data.length}`,
      data.subarray(2 * CHUNK),
    );
    expect(done.status).toBe(200);
    const resource = await json(done);
    expect(resource).toMatchObject({
      name: 'r.bin',
      contentType: 'text/csv',
      metadata: { k: 'v' },
      size: String(data.length),
    });
    expect(server.object(bucket, 'r.bin')?.data.equals(data)).toBe(true);

    // A completed session keeps answering the object.
    const again = await putChunk(session, `bytes */${data.length}`);
    expect(again.status).toBe(200);
    expect((await json(again)).generation).toBe(resource.generation);
  });

  test('a status query with the total equal to the bytes persisted finalises the upload', async () => {
    const bucket = newBucket();
    const data = payload(CHUNK);
    const session = await startSession(bucket, 'f.bin');
    expect((await putChunk(session, `bytes 0-${CHUNK - 1}/*`, data)).status).toBe(308);
    const finish = await putChunk(session, `bytes */${CHUNK}`);
    expect(finish.status).toBe(200);
    expect(server.object(bucket, 'f.bin')?.data.equals(data)).toBe(true);
  });

  test('DELETE of the session cancels it with 499; the session is then gone and nothing is stored', async () => {
    const bucket = newBucket();
    const session = await startSession(bucket, 'c.bin');
    expect((await putChunk(session, `bytes 0-${CHUNK - 1}/*`, payload(CHUNK))).status).toBe(308);
    const cancel = await fetch(session, { method: 'DELETE' });
    expect(cancel.status).toBe(499);
    const after = await putChunk(session, 'bytes */*');
    expect(after.status).toBe(404);
    expect(server.object(bucket, 'c.bin')).toBeUndefined();
  });
});

describe('downloads over HTTP', () => {
  const data = payload(1000);
  let bucket: string;
  let generation: string;

  beforeAll(async () => {
    bucket = newBucket();
    generation = String((await json(await mediaUpload(bucket, 'd.bin', data))).generation);
  });

  test.each([
    ['bytes=0-9', 0, 9],
    ['bytes=990-', 990, 999],
    ['bytes=-5', 995, 999],
    ['bytes=5-5', 5, 5],
    ['bytes=900-5000', 900, 999],
  ])('Range %s answers 206 with exactly those bytes', async (range, start, end) => {
    const response = await api(`/storage/v1/b/${bucket}/o/d.bin?alt=media`, { headers: { Range: range } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
    expect(Buffer.from(await response.arrayBuffer()).equals(data.subarray(start, end + 1))).toBe(true);
  });

  test('a range past the end is 416', async () => {
    const response = await api(`/storage/v1/b/${bucket}/o/d.bin?alt=media`, {
      headers: { Range: 'bytes=1000-' },
    });
    expect(response.status).toBe(416);
    expect(await json(response)).toEqual(
      errorShape(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.'),
    );
  });

  test.each(['/storage/v1', '/download/storage/v1'])(
    'a full download under %s carries the validation headers',
    async (prefix) => {
      const response = await api(`${prefix}/b/${bucket}/o/d.bin?alt=media`);
      expect(response.status).toBe(200);
      const { crc32c: crc, md5Hash } = expectedHashes(data);
      expect(response.headers.get('x-goog-hash')).toBe(`crc32c=${crc},md5=${md5Hash}`);
      expect(response.headers.get('x-goog-generation')).toBe(generation);
      expect(response.headers.get('x-goog-stored-content-encoding')).toBe('identity');
      expect(response.headers.get('content-length')).toBe('1000');
      expect(Buffer.from(await response.arrayBuffer()).equals(data)).toBe(true);
    },
  );

  test('generation selects the live generation; a replaced one is 404', async () => {
    const own = newBucket();
    const first = String((await json(await mediaUpload(own, 'g', 'one'))).generation);
    const second = String((await json(await mediaUpload(own, 'g', 'two'))).generation);
    const current = await api(`/storage/v1/b/${own}/o/g?alt=media&generation=${second}`);
    expect(await current.text()).toBe('two');
    const old = await api(`/storage/v1/b/${own}/o/g?alt=media&generation=${first}`);
    expect(old.status).toBe(404);
    expect(await json(old)).toEqual(errorShape(404, 'notFound', `No such object: ${own}/g`));
  });
});

describe('preconditions over HTTP', () => {
  let bucket: string;
  let generation: string;

  beforeEach(async () => {
    bucket = newBucket();
    generation = String((await json(await mediaUpload(bucket, 'p', 'original'))).generation);
  });

  const conditionNotMet = () =>
    errorShape(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');

  test.each([
    ['ifGenerationMatch=0 on an existing object', 412, () => '&ifGenerationMatch=0'],
    ['a stale ifGenerationMatch', 412, () => '&ifGenerationMatch=1'],
    ['ifGenerationNotMatch of the live generation', 412, () => `&ifGenerationNotMatch=${generation}`],
    ['ifMetagenerationMatch=2', 412, () => '&ifMetagenerationMatch=2'],
    ['ifGenerationMatch of the live generation', 200, () => `&ifGenerationMatch=${generation}`],
    ['ifMetagenerationMatch=1', 200, () => '&ifMetagenerationMatch=1'],
  ])('insert with %s answers %i', async (_label, status, query) => {
    const response = await mediaUpload(bucket, 'p', 'replacement', query());
    expect(response.status).toBe(status);
    if (status === 412) expect(await json(response)).toEqual(conditionNotMet());
    expect(server.object(bucket, 'p')?.data.toString()).toBe(status === 200 ? 'replacement' : 'original');
  });

  test('ifGenerationMatch=0 creates a new object', async () => {
    expect((await mediaUpload(bucket, 'fresh', 'x', '&ifGenerationMatch=0')).status).toBe(200);
  });

  test.each([
    ['a stale ifGenerationMatch', 412, () => '&ifGenerationMatch=1'],
    ['ifGenerationNotMatch of the live generation', 304, () => `&ifGenerationNotMatch=${generation}`],
    ['ifMetagenerationNotMatch=1', 304, () => '&ifMetagenerationNotMatch=1'],
    ['ifGenerationNotMatch of another generation', 200, () => '&ifGenerationNotMatch=1'],
    ['ifGenerationMatch of the live generation', 200, () => `&ifGenerationMatch=${generation}`],
  ])('get with %s answers %i', async (_label, status, query) => {
    for (const alt of ['', '&alt=media']) {
      const response = await api(`/storage/v1/b/${bucket}/o/p?x=1${alt}${query()}`);
      expect(response.status).toBe(status);
      if (status === 412) expect(await json(response)).toEqual(conditionNotMet());
      if (status === 304) expect(await response.text()).toBe('');
    }
  });

  test('delete with a stale ifGenerationMatch is 412 and keeps the object; with the live one it deletes', async () => {
    const stale = await api(`/storage/v1/b/${bucket}/o/p?ifGenerationMatch=1`, { method: 'DELETE' });
    expect(stale.status).toBe(412);
    expect(await json(stale)).toEqual(conditionNotMet());
    expect(server.object(bucket, 'p')).toBeDefined();
    const live = await api(`/storage/v1/b/${bucket}/o/p?ifGenerationMatch=${generation}`, {
      method: 'DELETE',
    });
    expect(live.status).toBe(204);
    expect(server.object(bucket, 'p')).toBeUndefined();
  });

  test('a resumable upload with ifGenerationMatch=0 fails with 412 when it completes over an existing object', async () => {
    const session = await startSession(bucket, 'p', {}, '&ifGenerationMatch=0');
    const done = await putChunk(session, 'bytes 0-3/4', Buffer.from('abcd'));
    expect(done.status).toBe(412);
    expect(await json(done)).toEqual(conditionNotMet());
    expect(server.object(bucket, 'p')?.data.toString()).toBe('original');
  });
});

describe('declared checksums over HTTP', () => {
  const data = Buffer.from('checksummed bytes\n');
  const good = expectedHashes(data);
  const wrong = {
    crc32c: expectedHashes(Buffer.from('x')).crc32c,
    md5Hash: expectedHashes(Buffer.from('x')).md5Hash,
  };
  const crcMessage = `Provided CRC32C "${wrong.crc32c}" doesn't match calculated CRC32C "${good.crc32c}".`;
  const md5Message = `Provided MD5 hash "${wrong.md5Hash}" doesn't match calculated MD5 hash "${good.md5Hash}".`;

  type Send = (bucket: string, declared: object) => Promise<Response>;
  const viaMultipart: Send = (bucket, declared) => multipartUpload(bucket, { name: 'c', ...declared }, data);
  const viaResumable: Send = async (bucket, declared) =>
    putChunk(await startSession(bucket, 'c', declared), `bytes 0-${data.length - 1}/${data.length}`, data);
  const viaGoogHash: Send = async (bucket, declared) => {
    const hashes = declared as { crc32c?: string; md5Hash?: string };
    const header = [
      ...(hashes.crc32c ? [`crc32c=${hashes.crc32c}`] : []),
      ...(hashes.md5Hash ? [`md5=${hashes.md5Hash}`] : []),
    ].join(',');
    return fetch(await startSession(bucket, 'c'), {
      method: 'PUT',
      headers: { 'Content-Range': `bytes 0-${data.length - 1}/${data.length}`, 'X-Goog-Hash': header },
      body: data,
    });
  };

  test.each([
    ['multipart metadata', viaMultipart],
    ['resumable session metadata', viaResumable],
    ['X-Goog-Hash on the final chunk', viaGoogHash],
  ])(
    '%s: a wrong crc32c or md5 is 400 invalid and stores nothing; right ones are accepted',
    async (_l, send) => {
      for (const [declared, message] of [
        [{ crc32c: wrong.crc32c }, crcMessage],
        [{ md5Hash: wrong.md5Hash }, md5Message],
      ] as const) {
        const bucket = newBucket();
        const response = await send(bucket, declared);
        expect(response.status).toBe(400);
        expect(await json(response)).toEqual(errorShape(400, 'invalid', message));
        expect(server.objects(bucket).size).toBe(0);
      }
      const bucket = newBucket();
      const accepted = await send(bucket, good);
      expect(accepted.status).toBe(200);
      expect(server.object(bucket, 'c')?.data.equals(data)).toBe(true);
    },
  );
});

describe('listing over HTTP', () => {
  let bucket: string;
  // 25 objects: 10 top-level, 13 under "folders", and two whose order differs between UTF-8 bytes (GCS's
  // order: U+FF21 before U+1F600) and JavaScript's UTF-16 string order (the surrogate pair first).
  const names = [
    ...Array.from({ length: 10 }, (_, i) => `top-${String(i).padStart(2, '0')}.txt`),
    ...Array.from({ length: 5 }, (_, i) => `logs/2026/${i}.log`),
    ...Array.from({ length: 5 }, (_, i) => `logs/2027/${i}.log`),
    ...Array.from({ length: 3 }, (_, i) => `data/part-${i}`),
    'z-\u{1F600}',
    'z-\uFF21',
  ];
  const utf8Sorted = (list: string[]) =>
    [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  beforeAll(async () => {
    bucket = newBucket();
    for (const name of [...names].reverse()) expect((await mediaUpload(bucket, name, name)).status).toBe(200);
  });

  async function listAll(query: string): Promise<{ pages: { items: string[]; prefixes: string[] }[] }> {
    const pages: { items: string[]; prefixes: string[] }[] = [];
    let token: string | undefined;
    do {
      const tokenQuery = token === undefined ? '' : `&pageToken=${enc(token)}`;
      const response = await api(`/storage/v1/b/${bucket}/o?${query}${tokenQuery}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        kind: string;
        items?: { name: string }[];
        prefixes?: string[];
        nextPageToken?: string;
      };
      expect(body.kind).toBe('storage#objects');
      pages.push({ items: (body.items ?? []).map((i) => i.name), prefixes: body.prefixes ?? [] });
      token = body.nextPageToken;
    } while (token !== undefined);
    return { pages };
  }

  test.each([
    {
      query: 'maxResults=10',
      pageSizes: [10, 10, 5],
      items: utf8Sorted(names),
      prefixes: [],
    },
    {
      query: 'prefix=logs/',
      pageSizes: [10],
      items: utf8Sorted(names.filter((n) => n.startsWith('logs/'))),
      prefixes: [],
    },
    {
      query: 'delimiter=/',
      pageSizes: [14],
      items: utf8Sorted(names.filter((n) => !n.includes('/'))),
      prefixes: ['data/', 'logs/'],
    },
    {
      query: 'prefix=logs/&delimiter=/',
      pageSizes: [2],
      items: [],
      prefixes: ['logs/2026/', 'logs/2027/'],
    },
    {
      // maxResults counts items and prefixes together.
      query: 'delimiter=/&maxResults=2',
      pageSizes: [2, 2, 2, 2, 2, 2, 2],
      items: utf8Sorted(names.filter((n) => !n.includes('/'))),
      prefixes: ['data/', 'logs/'],
    },
    {
      query: 'startOffset=logs/2027/&endOffset=top-01.txt',
      pageSizes: [6],
      items: [...names.filter((n) => n.startsWith('logs/2027/')), 'top-00.txt'],
      prefixes: [],
    },
    { query: 'prefix=nothing', pageSizes: [0], items: [], prefixes: [] },
  ])('$query pages through $items.length items and $prefixes.length prefixes', async (c) => {
    const { pages } = await listAll(c.query);
    expect(pages.map((p) => p.items.length + p.prefixes.length)).toEqual(c.pageSizes);
    expect(pages.flatMap((p) => p.items)).toEqual(c.items);
    expect(pages.flatMap((p) => p.prefixes)).toEqual(c.prefixes);
  });

  test('a page token from a previous page continues strictly after its last entry', async () => {
    const first = (await (await api(`/storage/v1/b/${bucket}/o?maxResults=3`)).json()) as {
      items: { name: string }[];
      nextPageToken: string;
    };
    const second = (await (
      await api(`/storage/v1/b/${bucket}/o?maxResults=3&pageToken=${enc(first.nextPageToken)}`)
    ).json()) as { items: { name: string }[] };
    expect([...first.items, ...second.items].map((i) => i.name)).toEqual(utf8Sorted(names).slice(0, 6));
  });
});

describe('deletes and retention over HTTP', () => {
  test('DELETE answers 204 and the object is gone; deleting it again is 404', async () => {
    const bucket = newBucket();
    await mediaUpload(bucket, 'gone', 'x');
    expect((await api(`/storage/v1/b/${bucket}/o/gone`, { method: 'DELETE' })).status).toBe(204);
    const get = await api(`/storage/v1/b/${bucket}/o/gone`);
    expect(get.status).toBe(404);
    expect(await json(get)).toEqual(errorShape(404, 'notFound', `No such object: ${bucket}/gone`));
    expect((await api(`/storage/v1/b/${bucket}/o/gone`, { method: 'DELETE' })).status).toBe(404);
  });

  test('an object younger than the retention period can be neither deleted nor overwritten (403)', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    const clocked = await startGcsServer({ now: () => now });
    try {
      const bucket = newBucket({ retentionPeriodSeconds: 3600 }, clocked);
      const url = (path: string) => `${clocked.url}${path}`;
      const bucketBody = await json(await fetch(url(`/storage/v1/b/${bucket}`)));
      expect(bucketBody.retentionPolicy).toMatchObject({ retentionPeriod: '3600', isLocked: false });

      const created = await json(
        await fetch(url(`/upload/storage/v1/b/${bucket}/o?uploadType=media&name=kept`), {
          method: 'POST',
          body: 'v1',
        }),
      );
      expect(created.retentionExpirationTime).toBe('2026-03-01T01:00:00.000Z');
      const message = `Object '${bucket}/kept' is subject to bucket's retention policy and cannot be deleted, overwritten or archived until 2026-03-01T01:00:00.000Z`;

      now += 3599_000;
      const del = await fetch(url(`/storage/v1/b/${bucket}/o/kept`), { method: 'DELETE' });
      expect(del.status).toBe(403);
      expect(await json(del)).toEqual(errorShape(403, 'retentionPolicyNotMet', message));
      const overwrite = await fetch(url(`/upload/storage/v1/b/${bucket}/o?uploadType=media&name=kept`), {
        method: 'POST',
        body: 'v2',
      });
      expect(overwrite.status).toBe(403);
      expect(await json(overwrite)).toEqual(errorShape(403, 'retentionPolicyNotMet', message));
      expect(clocked.object(bucket, 'kept')?.data.toString()).toBe('v1');

      now += 1000;
      expect((await fetch(url(`/storage/v1/b/${bucket}/o/kept`), { method: 'DELETE' })).status).toBe(204);
    } finally {
      await clocked.close();
    }
  });
});

describe('request log and counters', () => {
  test('count uploads by type, resumable sessions and PUTs, and requests by operation', async () => {
    const own = await startGcsServer({ buckets: ['b'] });
    try {
      const bucket = client({ on: own }).bucket('b');
      await bucket.file('simple').save('x', { resumable: false });
      await bucket.file('one-put').save(payload(KiB), { resumable: true });
      await bucket.file('chunked').save(payload(CHUNK + 1), { resumable: true, chunkSize: CHUNK });
      await fetch(`${own.url}/upload/storage/v1/b/b/o?uploadType=media&name=media`, {
        method: 'POST',
        body: 'm',
      });
      await bucket.file('simple').delete();
      await bucket.getFiles();
      expect(own.stats).toEqual({
        requests: 9,
        byOperation: { 'storage.objects.insert': 7, 'storage.objects.delete': 1, 'storage.objects.list': 1 },
        uploads: { media: 1, multipart: 1, resumable: 2 },
        resumableSessions: 2,
        resumableChunkRequests: 3,
      });
      expect(own.requests.map((e) => [e.method, e.operation, e.uploadType, e.status])).toEqual([
        ['POST', 'storage.objects.insert', 'multipart', 200],
        ['POST', 'storage.objects.insert', 'resumable', 200],
        ['PUT', 'storage.objects.insert', 'resumable', 200],
        ['POST', 'storage.objects.insert', 'resumable', 200],
        ['PUT', 'storage.objects.insert', 'resumable', 308],
        ['PUT', 'storage.objects.insert', 'resumable', 200],
        ['POST', 'storage.objects.insert', 'media', 200],
        ['DELETE', 'storage.objects.delete', undefined, 204],
        ['GET', 'storage.objects.list', undefined, 200],
      ]);
    } finally {
      await own.close();
    }
  });
});

// ---------- the real client ----------

describe('@google-cloud/storage against the server', () => {
  test.each([
    { label: 'simple (multipart)', options: { resumable: false }, size: 10 * KiB, expected: ['multipart'] },
    { label: 'simple, empty object', options: { resumable: false }, size: 0, expected: ['multipart'] },
    {
      label: 'resumable, one PUT',
      options: { resumable: true },
      size: 1024 * KiB + 7,
      expected: ['resumable', 'bytes 0-*/*'],
    },
    {
      label: 'resumable, 256 KiB chunks',
      options: { resumable: true, chunkSize: CHUNK },
      size: 1024 * KiB + 7,
      expected: [
        'resumable',
        `bytes 0-${CHUNK - 1}/*`,
        `bytes ${CHUNK}-${2 * CHUNK - 1}/*`,
        `bytes ${2 * CHUNK}-${3 * CHUNK - 1}/*`,
        `bytes ${3 * CHUNK}-${4 * CHUNK - 1}/*`,
        `bytes ${4 * CHUNK}-${4 * CHUNK + 6}/${4 * CHUNK + 7}`,
      ],
    },
  ])(
    '$label upload stores identical bytes and the client validates them',
    async ({ options, size, expected }) => {
      const bucket = newBucket();
      const data = payload(size);
      const file = client().bucket(bucket).file('nested/object name.bin');
      await file.save(data, {
        ...options,
        metadata: { contentType: 'application/x-test', metadata: { k: 'v' } },
      });

      const stored = server.object(bucket, 'nested/object name.bin');
      expect(stored?.data.equals(data)).toBe(true);
      expect(stored).toMatchObject({ contentType: 'application/x-test', metadata: { k: 'v' } });
      // The client turns `size` into a number after resumable uploads only.
      expect({ ...file.metadata, size: Number(file.metadata.size) }).toMatchObject({
        ...expectedHashes(data),
        size,
        generation: String(stored?.generation),
      });
      expect((await download(file)).equals(data)).toBe(true);

      const inserts = logOf(
        (e) => e.path.includes(`/b/${bucket}/o`) && e.operation === 'storage.objects.insert',
      );
      expect(inserts.map((e) => (e.method === 'PUT' ? e.contentRange : e.uploadType))).toEqual(expected);
    },
  );

  test('ifGenerationMatch: 0 makes a second write fail with 412', async () => {
    const bucket = newBucket();
    const file = client().bucket(bucket).file('once');
    await file.save('first', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    for (const resumable of [false, true]) {
      const error = await rejectionOf(
        file.save('second', { resumable, preconditionOpts: { ifGenerationMatch: 0 } }),
      );
      expect(error.code).toBe(412);
    }
    expect(server.object(bucket, 'once')?.data.toString()).toBe('first');
  });

  test.each([false, true])(
    'a crc32c or md5Hash in the metadata that does not match fails (resumable: %s)',
    async (resumable) => {
      const data = Buffer.from('client bytes');
      const wrong = expectedHashes(Buffer.from('other bytes'));
      for (const declared of [{ crc32c: wrong.crc32c }, { md5Hash: wrong.md5Hash }]) {
        const bucket = newBucket();
        const error = await rejectionOf(
          client({ retries: false }).bucket(bucket).file('c').save(data, { resumable, metadata: declared }),
        );
        expect(error.code).toBe(400);
        expect(JSON.stringify(error.errors)).toMatch(/doesn't match calculated/);
        expect(server.objects(bucket).size).toBe(0);
      }
    },
  );

  test('ranged reads are byte-exact', async () => {
    const bucket = newBucket();
    const data = payload(300 * KiB);
    server.putObject(bucket, 'ranged', data);
    const file = client().bucket(bucket).file('ranged');
    for (const [start, end] of [
      [0, 0],
      [1, 99],
      [CHUNK - 1, CHUNK + 10],
      [data.length - 10, data.length - 1],
    ] as const) {
      const [bytes] = await file.download({ start, end });
      expect(bytes.equals(data.subarray(start, end + 1))).toBe(true);
    }
  });

  test('getFiles pages with prefix, delimiter and maxResults', async () => {
    const bucket = newBucket();
    const names = Array.from({ length: 25 }, (_, i) => `run/${String(i).padStart(2, '0')}.csv`);
    for (const name of [...names, 'run/sub/a', 'other']) server.putObject(bucket, name, name);
    const b = client().bucket(bucket);
    const seen: string[] = [];
    const prefixes: string[] = [];
    type Query = {
      prefix: string;
      delimiter: string;
      maxResults: number;
      autoPaginate: false;
      pageToken?: string;
    };
    let query: Query | null = { prefix: 'run/', delimiter: '/', maxResults: 10, autoPaginate: false };
    const pageSizes: number[] = [];
    while (query) {
      const [files, next, response]: [File[], object | null, unknown] = await b.getFiles(query);
      const pagePrefixes = (response as { prefixes?: string[] }).prefixes ?? [];
      pageSizes.push(files.length + pagePrefixes.length);
      seen.push(...files.map((f) => f.name));
      prefixes.push(...pagePrefixes);
      query = next ? { ...query, ...(next as { pageToken: string }) } : null;
    }
    expect(pageSizes).toEqual([10, 10, 6]);
    expect(seen).toEqual(names);
    expect(prefixes).toEqual(['run/sub/']);
  });

  test('delete removes the object and exists() turns false; the bucket exists', async () => {
    const bucket = newBucket();
    server.putObject(bucket, 'd', 'x');
    const file = client().bucket(bucket).file('d');
    expect((await file.exists())[0]).toBe(true);
    await file.delete();
    expect((await file.exists())[0]).toBe(false);
    expect((await client().bucket(bucket).exists())[0]).toBe(true);
    expect((await client().bucket(`missing-${++seq}`).exists())[0]).toBe(false);
  });

  test('a delete inside the retention period fails with 403 retentionPolicyNotMet', async () => {
    const bucket = newBucket({ retentionPeriodSeconds: 86_400 });
    server.putObject(bucket, 'kept', 'x');
    const error = await rejectionOf(client().bucket(bucket).file('kept').delete());
    expect(error.code).toBe(403);
    expect(error.errors?.[0]?.reason).toBe('retentionPolicyNotMet');
    expect(server.object(bucket, 'kept')).toBeDefined();
  });

  test('createBucket sends the retention policy; getMetadata reads it back', async () => {
    const name = `created-${++seq}`;
    const [bucket] = await client().createBucket(name, { retentionPolicy: { retentionPeriod: 60 } });
    const [metadata] = await bucket.getMetadata();
    expect(metadata).toMatchObject({ name, retentionPolicy: { retentionPeriod: '60', isLocked: false } });
    const error = await rejectionOf(client().createBucket(name));
    expect(error.code).toBe(409);
  });

  test('setMetadata patches custom metadata, bumps metageneration and honours ifMetagenerationMatch', async () => {
    const bucket = newBucket();
    server.putObject(bucket, 'm', 'x', { metadata: { keep: '1', drop: '2' } });
    const file = client().bucket(bucket).file('m');
    const [patched] = await file.setMetadata(
      { contentType: 'text/plain', metadata: { drop: null, added: '3' } },
      { ifMetagenerationMatch: 1 },
    );
    expect(patched).toMatchObject({
      metageneration: '2',
      contentType: 'text/plain',
      metadata: { keep: '1', added: '3' },
    });
    expect(patched.metadata).not.toHaveProperty('drop');
    const error = await rejectionOf(
      file.setMetadata({ metadata: { late: 'x' } }, { ifMetagenerationMatch: 1 }),
    );
    expect(error.code).toBe(412);
    expect(server.object(bucket, 'm')?.metageneration).toBe(2);
  });

  test('STORAGE_EMULATOR_HOST (paths without /storage/v1) works too', async () => {
    const bucket = newBucket();
    const previous = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = server.url;
    try {
      const storage = new Storage({ projectId: 'test' });
      await storage.bucket(bucket).file('e').save('emulated', { resumable: false });
      expect((await download(storage.bucket(bucket).file('e'))).toString()).toBe('emulated');
      const [files] = await storage.bucket(bucket).getFiles();
      expect(files.map((f) => f.name)).toEqual(['e']);
    } finally {
      if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = previous;
    }
  });
});

// ---------- fault injection ----------

describe('Retry Test API over HTTP', () => {
  test('create, read, consume with x-retry-test-id, complete, delete', async () => {
    const bucket = newBucket();
    await mediaUpload(bucket, 'o', 'x');
    const id = await createRetryTest({ 'storage.objects.get': ['return-503', 'return-408'] });
    const headers = { 'x-retry-test-id': id };

    const first = await api(`/storage/v1/b/${bucket}/o/o`, { headers });
    expect(first.status).toBe(503);
    expect(await json(first)).toEqual(errorShape(503, 'backendError', 'Retry Test: Caused a 503'));
    expect(await retryTestState(id)).toMatchObject({
      instructions: { 'storage.objects.get': ['return-408'] },
      completed: false,
    });
    // Other operations are not affected.
    expect((await api(`/storage/v1/b/${bucket}/o`, { headers })).status).toBe(200);
    expect((await api(`/storage/v1/b/${bucket}/o/o`, { headers })).status).toBe(408);
    expect(await retryTestState(id)).toEqual({
      id,
      instructions: { 'storage.objects.get': [] },
      completed: true,
      transport: 'HTTP',
    });
    expect((await api(`/storage/v1/b/${bucket}/o/o`, { headers })).status).toBe(200);

    expect((await api(`/retry_test/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(`/retry_test/${id}`)).status).toBe(404);
  });

  test.each([
    [{ 'storage.objects.get': ['return-teapot'] }],
    [{ 'storage.objects.frobnicate': ['return-503'] }],
    [{ 'storage.objects.get': ['return-200'] }],
  ])('an unknown instruction or method is 400: %j', async (instructions) => {
    const response = await api('/retry_test', { method: 'POST', body: JSON.stringify({ instructions }) });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: 400 } });
  });

  test('a request naming an unknown retry test is 404', async () => {
    const response = await api(`/storage/v1/b/${newBucket()}`, { headers: { 'x-retry-test-id': 'nope' } });
    expect(response.status).toBe(404);
  });

  test('return-reset-connection resets the connection without an answer', async () => {
    const bucket = newBucket();
    const id = await createRetryTest({ 'storage.buckets.get': ['return-reset-connection'] });
    await expect(api(`/storage/v1/b/${bucket}`, { headers: { 'x-retry-test-id': id } })).rejects.toThrow();
    expect((await retryTestState(id)).completed).toBe(true);
    const [entry, ...more] = logOf((e) => e.retryTestId === id);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ outcome: 'reset', fault: 'return-reset-connection' });
    expect(entry?.status).toBeUndefined();
  });

  test.each([
    ['return-503-after-256K', 256 * KiB],
    ['return-broken-stream-after-64K', 64 * KiB],
    ['return-broken-stream', 4],
  ])('%s on a download sends that many bytes, then breaks the connection', async (instruction, bytes) => {
    const bucket = newBucket();
    const data = payload(1024 * KiB);
    server.putObject(bucket, 'big', data);
    const id = await createRetryTest({ 'storage.objects.get': [instruction] });
    const response = await api(`/storage/v1/b/${bucket}/o/big?alt=media`, {
      headers: { 'x-retry-test-id': id },
    });
    expect(response.status).toBe(200);
    const received = await readAll(response);
    expect(received.broken).toBe(true);
    expect(received.bytes.length).toBe(bytes);
    expect(received.bytes.equals(data.subarray(0, bytes))).toBe(true);
    expect((await retryTestState(id)).completed).toBe(true);
  });

  test('return-503-after-256K on a resumable upload persists up to 256 KiB, then answers 503', async () => {
    const bucket = newBucket();
    const data = payload(3 * CHUNK);
    const id = await createRetryTest({ 'storage.objects.insert': ['return-503-after-256K'] });
    const headers = { 'x-retry-test-id': id };
    const session = await startSession(bucket, 'r');
    const first = await fetch(session, {
      method: 'PUT',
      headers: { ...headers, 'Content-Range': `bytes 0-${2 * CHUNK - 1}/*` },
      body: data.subarray(0, 2 * CHUNK),
    });
    expect(first.status).toBe(503);
    const status = await fetch(session, {
      method: 'PUT',
      headers: { ...headers, 'Content-Range': 'bytes */*' },
    });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${CHUNK - 1}`);
    const rest = await fetch(session, {
      method: 'PUT',
      headers: { ...headers, 'Content-Range': `bytes ${CHUNK}-${data.length - 1}/${data.length}` },
      body: data.subarray(CHUNK),
    });
    expect(rest.status).toBe(200);
    expect(server.object(bucket, 'r')?.data.equals(data)).toBe(true);
    expect((await retryTestState(id)).completed).toBe(true);
  });

  test('return-503-after-256K on a simple upload of more than 256 KiB fails it whole', async () => {
    const bucket = newBucket();
    const id = await createRetryTest({ 'storage.objects.insert': ['return-503-after-256K'] });
    const small = await api(`/upload/storage/v1/b/${bucket}/o?uploadType=media&name=small`, {
      method: 'POST',
      headers: { 'x-retry-test-id': id },
      body: payload(100),
    });
    expect(small.status).toBe(200);
    const big = await api(`/upload/storage/v1/b/${bucket}/o?uploadType=media&name=big`, {
      method: 'POST',
      headers: { 'x-retry-test-id': id },
      body: payload(300 * KiB),
    });
    expect(big.status).toBe(503);
    expect(server.object(bucket, 'big')).toBeUndefined();
    expect((await retryTestState(id)).completed).toBe(true);
  });
});

describe('the client under injected faults', () => {
  const big = payload(1024 * KiB + 3);

  interface FaultCase {
    label: string;
    instructions: Record<string, string[]>;
    run: (storage: Storage, bucket: string) => Promise<unknown>;
    /** Checks after the client call settled; `outcome` is the resolved value or the rejection. */
    verify: (bucket: string, outcome: { ok: boolean; value: unknown }) => void | Promise<void>;
  }

  const saved = (name: string, data: Buffer) => (bucket: string, outcome: { ok: boolean }) => {
    expect(outcome.ok).toBe(true);
    expect(server.object(bucket, name)?.data.equals(data)).toBe(true);
  };
  const small = payload(20 * KiB);

  const cases: FaultCase[] = [
    ...['return-503', 'return-408', 'return-reset-connection'].map((instruction): FaultCase => ({
      label: `${instruction} on a simple upload: the client retries to an identical object`,
      instructions: { 'storage.objects.insert': [instruction] },
      run: (storage, bucket) => storage.bucket(bucket).file('s').save(small, { resumable: false }),
      verify: saved('s', small),
    })),
    {
      label: 'return-503 on starting a resumable upload: the client retries',
      instructions: { 'storage.objects.insert': ['return-503'] },
      run: (storage, bucket) =>
        storage.bucket(bucket).file('r').save(big, { resumable: true, chunkSize: CHUNK }),
      verify: saved('r', big),
    },
    {
      label: 'return-503-after-256K on a chunked resumable upload: the client resumes at 256 KiB',
      instructions: { 'storage.objects.insert': ['return-503-after-256K'] },
      run: (storage, bucket) =>
        storage.bucket(bucket).file('r').save(big, { resumable: true, chunkSize: CHUNK }),
      verify: (bucket, outcome) => {
        saved('r', big)(bucket, outcome);
        const puts = logOf((e) => e.method === 'PUT' && e.path.includes(`/b/${bucket}/o`));
        expect(puts.slice(0, 3).map((e) => [e.contentRange, e.status])).toEqual([
          [`bytes 0-${CHUNK - 1}/*`, 503],
          ['bytes */*', 308],
          [`bytes ${CHUNK}-${2 * CHUNK - 1}/*`, 308],
        ]);
      },
    },
    {
      label: 'return-401 on an upload: the client gives up with 401 and nothing is stored',
      instructions: { 'storage.objects.insert': ['return-401'] },
      run: (storage, bucket) => storage.bucket(bucket).file('u').save(small, { resumable: false }),
      verify: (bucket, outcome) => {
        expect(outcome.ok).toBe(false);
        expect((outcome.value as ClientError).code).toBe(401);
        expect(server.objects(bucket).size).toBe(0);
      },
    },
    {
      label: 'return-403-retentionPolicyNotMet on a delete: the client fails with that reason',
      instructions: { 'storage.objects.delete': ['return-403-retentionPolicyNotMet'] },
      run: (storage, bucket) => {
        server.putObject(bucket, 'keep', 'x');
        return storage.bucket(bucket).file('keep').delete();
      },
      verify: (bucket, outcome) => {
        expect(outcome.ok).toBe(false);
        const error = outcome.value as ClientError;
        expect(error.code).toBe(403);
        expect(error.errors?.[0]?.reason).toBe('retentionPolicyNotMet');
        expect(server.object(bucket, 'keep')).toBeDefined();
      },
    },
    {
      label: 'return-503 then return-reset-connection on a download: the client retries to identical bytes',
      instructions: { 'storage.objects.get': ['return-503', 'return-reset-connection'] },
      run: (storage, bucket) => {
        server.putObject(bucket, 'g', big);
        return download(storage.bucket(bucket).file('g'));
      },
      verify: (_bucket, outcome) => {
        expect(outcome.ok).toBe(true);
        expect((outcome.value as Buffer).equals(big)).toBe(true);
      },
    },
    {
      // The client does not resume a broken download: it fails with the stream error.
      label: 'return-503-after-256K on a download: the client fails with a premature close',
      instructions: { 'storage.objects.get': ['return-503-after-256K'] },
      run: (storage, bucket) => {
        server.putObject(bucket, 'g', big);
        return download(storage.bucket(bucket).file('g'));
      },
      verify: (_bucket, outcome) => {
        expect(outcome.ok).toBe(false);
        expect((outcome.value as ClientError).code).toBe('ERR_STREAM_PREMATURE_CLOSE');
      },
    },
    {
      label: 'return-503 on a listing and return-408 on a bucket get: the client retries',
      instructions: { 'storage.objects.list': ['return-503'], 'storage.buckets.get': ['return-408'] },
      run: async (storage, bucket) => {
        server.putObject(bucket, 'l', 'x');
        const [files] = await storage.bucket(bucket).getFiles();
        const [exists] = await storage.bucket(bucket).exists();
        return { names: files.map((f) => f.name), exists };
      },
      verify: (_bucket, outcome) => {
        expect(outcome).toEqual({ ok: true, value: { names: ['l'], exists: true } });
      },
    },
  ];

  test.concurrent.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const bucket = newBucket();
    const id = await createRetryTest(c.instructions);
    const outcome = await c.run(client({ retryTestId: id }), bucket).then(
      (value) => ({ ok: true, value }),
      (value: unknown) => ({ ok: false, value }),
    );
    await c.verify(bucket, outcome);
    expect(await retryTestState(id)).toMatchObject({ completed: true });
    const faulted = logOf((e) => e.retryTestId === id && e.fault !== undefined).map((e) => e.fault);
    expect(faulted).toEqual(Object.values(c.instructions).flat());
  });
});

describe('random fault injection', () => {
  async function faultSequence(seed: number): Promise<(string | undefined)[]> {
    const own = await startGcsServer({ buckets: ['b'] });
    try {
      own.injectFaults({
        operation: 'storage.buckets.get',
        rate: 0.5,
        kinds: ['return-503', 'return-429'],
        seed,
      });
      for (let i = 0; i < 40; i++) await fetch(`${own.url}/storage/v1/b/b`);
      // Other operations are untouched.
      expect((await fetch(`${own.url}/storage/v1/b/b/o`)).status).toBe(200);
      const faults = own.requests.map((e) => e.fault);
      const total = Object.values(own.faultsInjected).reduce((a, b) => a + b, 0);
      expect(total).toBe(faults.filter((f) => f !== undefined).length);
      expect(
        own.requests
          .filter((e) => e.fault !== undefined)
          .every((e) => e.status === Number(e.fault?.slice(7))),
      ).toBe(true);
      return faults;
    } finally {
      await own.close();
    }
  }

  test('is reproducible for a seed, differs across seeds, and follows the rate', async () => {
    const a = await faultSequence(7);
    expect(await faultSequence(7)).toEqual(a);
    expect(await faultSequence(8)).not.toEqual(a);
    const count = a.filter((f) => f !== undefined).length;
    expect(count).toBeGreaterThan(8);
    expect(count).toBeLessThan(32);
    expect(new Set(a.filter((f) => f !== undefined))).toEqual(new Set(['return-503', 'return-429']));
  });

  test('the client retries through random upload faults to identical objects', async () => {
    const own = await startGcsServer({ buckets: ['b'] });
    try {
      own.injectFaults({
        operation: 'storage.objects.insert',
        rate: 0.3,
        kinds: ['return-503', 'return-reset-connection'],
        seed: 3,
        maxFaults: 2,
      });
      const storage = client({ on: own });
      const objects = Array.from({ length: 8 }, (_, i) => [`o${i}`, payload(5 * KiB + i)] as const);
      for (const [name, data] of objects)
        await storage.bucket('b').file(name).save(data, { resumable: false });
      for (const [name, data] of objects) expect(own.object('b', name)?.data.equals(data)).toBe(true);
      const applied = Object.values(own.faultsInjected).reduce((a, b) => a + b, 0);
      expect(applied).toBe(2);
      expect(own.requests.filter((e) => e.fault !== undefined)).toHaveLength(2);
    } finally {
      await own.close();
    }
  });
});

import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import {
  MAX_BODY_BYTES,
  MAX_BODY_DEPTH,
  nestedDeeperThan,
  readJsonBody,
} from '../../../shared/api/request-body';

/** A request body stream that counts how much of it was consumed. */
function body(bytes: Buffer, chunk = 16 * 1024): { stream: Readable; consumed: () => number } {
  let consumed = 0;
  const stream = Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunk) {
        const piece = bytes.subarray(at, at + chunk);
        consumed += piece.length;
        yield piece;
      }
    })(),
  );
  return { stream, consumed: () => consumed };
}

const json = { 'content-type': 'application/json' };
const length = (bytes: Buffer) => ({ 'content-length': String(bytes.length) });

describe('readJsonBody', () => {
  it.each([
    ['identity', (b: Buffer) => b, {}],
    ['gzip', gzipSync, { 'content-encoding': 'gzip' }],
    ['deflate', deflateSync, { 'content-encoding': 'deflate' }],
    ['br', brotliCompressSync, { 'content-encoding': 'br' }],
  ])('reads a JSON body sent as %s', async (_name, encode, headers) => {
    const bytes = encode(Buffer.from(JSON.stringify({ key: 'value', n: 1 })));
    expect(await readJsonBody(body(bytes).stream, { ...json, ...length(bytes), ...headers })).toEqual({
      ok: true,
      value: { key: 'value', n: 1 },
    });
  });

  it('treats a request without a body as no body', async () => {
    expect(await readJsonBody(Readable.from([]), {})).toEqual({ ok: true, value: undefined });
  });

  it('refuses a gzip bomb (200 KB inflating to 200 MB) without inflating more than the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
    expect(bomb.length).toBeGreaterThan(150_000);
    // Chunked (no Content-Length): the wire cap stops it.
    const chunked = body(bomb);
    expect(
      await readJsonBody(chunked.stream, {
        ...json,
        'transfer-encoding': 'chunked',
        'content-encoding': 'gzip',
      }),
    ).toMatchObject({
      ok: false,
      code: 'bodyTooLarge',
    });
    expect(chunked.consumed()).toBeLessThan(MAX_BODY_BYTES + 64 * 1024);
    // Declared: refused before a byte is read.
    const declared = body(bomb);
    expect(
      await readJsonBody(declared.stream, { ...json, ...length(bomb), 'content-encoding': 'gzip' }),
    ).toMatchObject({
      code: 'bodyTooLarge',
    });
    expect(declared.consumed()).toBe(0);
  });

  it('refuses a small gzip body that inflates beyond 64 KiB', async () => {
    const small = gzipSync(Buffer.from(`{"pad":"${'a'.repeat(10 * 1024 * 1024)}"}`));
    expect(small.length).toBeLessThan(MAX_BODY_BYTES);
    expect(
      await readJsonBody(body(small).stream, { ...json, ...length(small), 'content-encoding': 'gzip' }),
    ).toMatchObject({
      ok: false,
      code: 'bodyTooLarge',
    });
  });

  it.each([
    ['an unknown encoding', { 'content-encoding': 'zstd' }, Buffer.from('{}'), 'unsupportedMediaType'],
    [
      'a body that is not JSON by type',
      { 'content-type': 'text/plain' },
      Buffer.from('{}'),
      'unsupportedMediaType',
    ],
    ['a body larger than 64 KiB', {}, Buffer.alloc(MAX_BODY_BYTES + 1, 0x20), 'bodyTooLarge'],
    ['malformed JSON (a trailing comma)', {}, Buffer.from('{"key": "MARKER-SECRET",}'), 'invalidBody'],
    ['bytes that are not UTF-8', {}, Buffer.from([0x7b, 0xff, 0x7d]), 'invalidBody'],
    ['gzip that is not gzip', { 'content-encoding': 'gzip' }, Buffer.from('MARKER-SECRET'), 'invalidBody'],
  ])('refuses %s, saying only what kind of problem it was', async (_name, headers, bytes, code) => {
    const result = await readJsonBody(body(bytes).stream, { ...json, ...length(bytes), ...headers });
    expect(result).toMatchObject({ ok: false, code });
    expect(JSON.stringify(result)).not.toContain('MARKER');
  });

  it('refuses a body nested deeper than 32 levels, without recursion, and accepts 32', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i += 1) value = i % 2 ? [value] : { a: value };
      return value;
    };
    expect(nestedDeeperThan(nest(32), MAX_BODY_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nest(33), MAX_BODY_DEPTH)).toBe(true);
    expect(nestedDeeperThan(nest(200_000), MAX_BODY_DEPTH)).toBe(true);
  });
});

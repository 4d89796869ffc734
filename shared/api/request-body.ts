import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import getRawBody from 'raw-body';

/** The largest body the API reads, after decompression: a key file is ~2.4 KB, a whole request far below this. */
export const MAX_BODY_BYTES = 64 * 1024;
/** No document of the API nests deeper than a few levels; deeper input would only feed recursion. */
export const MAX_BODY_DEPTH = 32;

/** True when `value` nests objects or arrays deeper than `max` levels (measured without recursion). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [current, depth] = item;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
/** Compressed bytes read at most: compressing data never makes it much larger, so this bounds the wire too. */
const MAX_WIRE_BYTES = MAX_BODY_BYTES + 1024;

export type BodyFailure = {
  ok: false;
  code: 'bodyTooLarge' | 'unsupportedMediaType' | 'invalidBody';
  message: string;
};
export type BodyResult = { ok: true; value: unknown } | BodyFailure;

const fail = (code: BodyFailure['code'], message: string): BodyFailure => ({ ok: false, code, message });
const tooLarge = () => fail('bodyTooLarge', `the body exceeds ${MAX_BODY_BYTES} bytes (after decompression)`);

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** Whether the request carries a body at all (RFC 9112: Transfer-Encoding, or a non-zero Content-Length). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  if (header(headers, 'transfer-encoding') !== undefined) return true;
  const length = header(headers, 'content-length');
  return length !== undefined && length.trim() !== '0';
}

/** Fails the stream once more than `limit` bytes went through: the compressed side of a decompression. */
function capped(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) done(Object.assign(new Error('too large'), { type: 'entity.too.large' }));
      else done(null, chunk);
    },
  });
}

function decoderFor(encoding: string): Transform | undefined | 'unsupported' {
  switch (encoding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return 'unsupported';
  }
}

/** Reads at most MAX_BODY_BYTES of decoded body; never buffers more, whatever the wire or the encoding says. */
async function readBounded(stream: Readable, headers: IncomingHttpHeaders): Promise<Buffer | BodyFailure> {
  const encoding = (header(headers, 'content-encoding') ?? '').trim().toLowerCase();
  const decoder = decoderFor(encoding);
  if (decoder === 'unsupported')
    return fail('unsupportedMediaType', 'Content-Encoding must be identity, gzip, deflate or br');
  const declared = Number(header(headers, 'content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > (decoder ? MAX_WIRE_BYTES : MAX_BODY_BYTES)) return tooLarge();
  if (!decoder) return collect(stream, stream);
  // request → cap on the compressed bytes → decoder → raw-body's cap on the decoded bytes. pipe() forwards no
  // errors: each stage's failure is handed to the decoder, whose error raw-body reports.
  const wire = capped(MAX_WIRE_BYTES);
  const failDecoder = (error: Error) => decoder.destroy(error);
  stream.once('error', failDecoder);
  wire.on('error', failDecoder);
  decoder.on('error', () => undefined);
  stream.pipe(wire).pipe(decoder);
  const result = await collect(decoder, stream, encoding);
  stream.unpipe(wire);
  wire.destroy();
  return result;
}

/** Collects `decoded`; on any failure the stream stops at once, so nothing more is read or inflated. */
async function collect(
  decoded: Readable,
  source: Readable,
  encoding?: string,
): Promise<Buffer | BodyFailure> {
  try {
    return await getRawBody(decoded, { limit: MAX_BODY_BYTES });
  } catch (error) {
    // Stop reading: the request itself stays open, so that the refusal can still be sent on it.
    if (decoded !== source) decoded.destroy();
    source.pause();
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large') return tooLarge();
    return fail(
      'invalidBody',
      encoding ? `the body is not valid ${encoding} data` : 'the body could not be read',
    );
  }
}

/**
 * The JSON body of a request, read under our control: the content type must be JSON, the size is bounded after
 * decompression, and a failure says what kind of problem it was without a byte of the body (it may hold a key).
 * No body at all is `undefined`.
 */
export async function readJsonBody(
  stream: Readable,
  headers: IncomingHttpHeaders,
  mediaType: 'application/json' | 'application/merge-patch+json' = 'application/json',
): Promise<BodyResult> {
  if (!hasBody(headers)) return { ok: true, value: undefined };
  const type = (header(headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== mediaType) return fail('unsupportedMediaType', `the body must be ${mediaType}`);
  const bytes = await readBounded(stream, headers);
  if (!Buffer.isBuffer(bytes)) return bytes;
  if (bytes.length === 0) return { ok: true, value: undefined };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('invalidBody', 'the body is not valid UTF-8');
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (nestedDeeperThan(value, MAX_BODY_DEPTH))
      return fail('invalidBody', `the body nests deeper than ${MAX_BODY_DEPTH} levels`);
    return { ok: true, value };
  } catch {
    return fail('invalidBody', 'the body is not valid JSON');
  }
}

// Buckets and objects under /storage/v1 (and media under /download/storage/v1).
import { gunzipSync } from 'node:zlib';
import type { RequestContext } from './context';
import { invalid } from './errors';
import { header, readBody, sendEmpty, sendJson } from './http';
import { listObjects, parseListQuery } from './listing';
import { checkRead, parsePreconditions } from './preconditions';
import { parseRange } from './ranges';
import { bucketResource, etagOf, objectResource } from './resources';
import { bucketInsertSchema, objectMetadataSchema, parseJsonBody } from './schemas';
import type { StoredObject } from './store';

export function getBucket(ctx: RequestContext, bucket: string): void {
  sendJson(ctx.res, 200, bucketResource(ctx.store.bucket(bucket), ctx.baseUrl));
}

export async function insertBucket(ctx: RequestContext): Promise<void> {
  const body = parseJsonBody(bucketInsertSchema, await readBody(ctx.req));
  const period = body.retentionPolicy?.retentionPeriod;
  if (period !== undefined && !(Number.isInteger(period) && period > 0)) {
    throw invalid(`Invalid retention period: ${period}`);
  }
  const bucket = ctx.store.createBucket(
    body.name,
    period === undefined ? {} : { retentionPeriodSeconds: period },
  );
  sendJson(ctx.res, 200, bucketResource(bucket, ctx.baseUrl));
}

export function listBucket(ctx: RequestContext, bucket: string): void {
  const page = listObjects(ctx.store.liveObjects(bucket).values(), parseListQuery(ctx.url.searchParams));
  sendJson(ctx.res, 200, {
    kind: 'storage#objects',
    ...(page.prefixes.length > 0 && { prefixes: page.prefixes }),
    ...(page.items.length > 0 && { items: page.items.map((o) => objectResource(o, ctx.baseUrl)) }),
    ...(page.nextPageToken !== undefined && { nextPageToken: page.nextPageToken }),
  });
}

export function getObject(ctx: RequestContext, bucket: string, name: string, media: boolean): void {
  const query = ctx.url.searchParams;
  const object = ctx.store.get(bucket, name, generationParam(query));
  if (checkRead(object, parsePreconditions(query)) === 'notModified') {
    sendEmpty(ctx.res, 304, { ETag: etagOf(object) });
    return;
  }
  if (media) sendMedia(ctx, object);
  else sendJson(ctx.res, 200, objectResource(object, ctx.baseUrl));
}

export async function deleteObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  await readBody(ctx.req);
  const query = ctx.url.searchParams;
  ctx.store.delete(bucket, name, generationParam(query), parsePreconditions(query));
  sendEmpty(ctx.res, 204);
}

export async function patchObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  const patch = parseJsonBody(objectMetadataSchema, await readBody(ctx.req));
  const query = ctx.url.searchParams;
  const object = ctx.store.patch(bucket, name, generationParam(query), patch, parsePreconditions(query));
  sendJson(ctx.res, 200, objectResource(object, ctx.baseUrl));
}

function generationParam(query: URLSearchParams): number | undefined {
  const raw = query.get('generation');
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw invalid(`Invalid value for generation: ${raw}`);
  return Number(raw);
}

/**
 * The bytes, with the headers the client validates downloads with (x-goog-hash, and
 * x-goog-stored-content-encoding, without which it skips validation). A gzip-encoded object is served as stored
 * to clients accepting gzip, decompressed otherwise (GCS's decompressive transcoding, which ignores Range).
 */
function sendMedia(ctx: RequestContext, object: StoredObject): void {
  const { req, res } = ctx;
  const gzipStored = object.contentEncoding === 'gzip';
  const transcode = gzipStored && !/\bgzip\b/.test(header(req, 'accept-encoding') ?? '');
  const bytes = transcode ? gunzipSync(object.data) : object.data;
  const range = transcode ? undefined : parseRange(header(req, 'range'), bytes.length);
  const body = range ? bytes.subarray(range.start, range.end + 1) : bytes;
  const fault = ctx.fault;
  const cutAt =
    fault?.instruction.kind === 'statusAfter' || fault?.instruction.kind === 'brokenStream'
      ? fault.instruction.afterBytes
      : undefined;
  const breaks = fault !== undefined && cutAt !== undefined && body.length > cutAt;
  res.writeHead(range ? 206 : 200, {
    'Content-Type': object.contentType,
    // A response about to break is sent chunked, as storage-testbench streams it: with a Content-Length, the
    // client's HTTP stack (node-fetch 2) never notices that the body was cut short and waits forever.
    ...(!breaks && { 'Content-Length': body.length }),
    ...(range && { 'Content-Range': `bytes ${range.start}-${range.end}/${bytes.length}` }),
    ...(object.contentEncoding !== undefined && !transcode && { 'Content-Encoding': object.contentEncoding }),
    ETag: etagOf(object),
    'Last-Modified': new Date(object.updated).toUTCString(),
    'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
    'x-goog-generation': String(object.generation),
    'x-goog-metageneration': String(object.metageneration),
    'x-goog-stored-content-length': String(object.data.length),
    'x-goog-stored-content-encoding': object.contentEncoding ?? 'identity',
    'x-goog-storage-class': 'STANDARD',
  });
  if (breaks) {
    fault.apply();
    ctx.log.outcome = 'broken';
    res.write(body.subarray(0, cutAt), () => req.socket.destroy());
    return;
  }
  res.end(body);
}

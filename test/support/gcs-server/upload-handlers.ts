// Object inserts under /upload/storage/v1/b/{bucket}/o: uploadType=media, multipart and resumable (session
// initiation, PUTs of data or status queries, DELETE to cancel).
import { parseGoogHash } from './checksums';
import type { RequestContext, UploadType } from './context';
import { injected, invalid, notFound, required } from './errors';
import { header, readBody, sendEmpty, sendJson } from './http';
import { boundaryOf, parseMultipart } from './multipart';
import { parsePreconditions } from './preconditions';
import { parseContentRange } from './ranges';
import { objectResource } from './resources';
import type { ObjectMetadataInput } from './schemas';
import { objectMetadataSchema, parseJsonBody } from './schemas';
import type { StoredObject } from './store';

const UPLOAD_TYPE_REQUIRED =
  'Upload requests must include an uploadType URL parameter and a URL-encoded object name.';

export async function insertObject(ctx: RequestContext, bucket: string): Promise<void> {
  const body = await readBody(ctx.req);
  const uploadType = ctx.url.searchParams.get('uploadType') ?? '';
  switch (uploadType) {
    case 'media':
    case 'multipart':
      ctx.log.uploadType = uploadType;
      return simpleUpload(ctx, bucket, uploadType, body);
    case 'resumable':
      ctx.log.uploadType = uploadType;
      return startResumable(ctx, bucket, body);
    default:
      throw invalid(UPLOAD_TYPE_REQUIRED);
  }
}

function simpleUpload(ctx: RequestContext, bucket: string, type: 'media' | 'multipart', body: Buffer): void {
  const query = ctx.url.searchParams;
  let metadata: ObjectMetadataInput;
  let data: Buffer;
  if (type === 'media') {
    const contentEncoding = query.get('contentEncoding');
    metadata = {
      contentType: header(ctx.req, 'content-type'),
      ...(contentEncoding !== null && { contentEncoding }),
    };
    data = body;
  } else {
    const [meta, media, ...rest] = parseMultipart(body, boundaryOf(header(ctx.req, 'content-type')));
    if (!meta || !media || rest.length > 0) throw invalid('A multipart upload has exactly two parts');
    metadata = parseJsonBody(objectMetadataSchema, meta.body);
    metadata = { ...metadata, contentType: metadata.contentType ?? media.headers['content-type'] };
    data = media.body;
  }
  const name = query.get('name') ?? metadata.name;
  if (!name) throw required();
  const fault = ctx.fault;
  if (fault?.instruction.kind === 'statusAfter' && data.length >= fault.instruction.afterBytes) {
    fault.apply();
    throw injected(fault.instruction.code);
  }
  const object = ctx.store.insert({
    bucket,
    name,
    data,
    metadata,
    declared: parseGoogHash(header(ctx.req, 'x-goog-hash')),
    preconditions: parsePreconditions(query),
  });
  created(ctx, type, object);
}

function startResumable(ctx: RequestContext, bucket: string, body: Buffer): void {
  const query = ctx.url.searchParams;
  const metadata = parseJsonBody(objectMetadataSchema, body);
  const name = query.get('name') ?? metadata.name;
  if (!name) throw required();
  const declaredType = header(ctx.req, 'x-upload-content-type');
  const declaredLength = header(ctx.req, 'x-upload-content-length');
  if (declaredLength !== undefined && !/^\d+$/.test(declaredLength)) {
    throw invalid(`Invalid X-Upload-Content-Length: ${declaredLength}`);
  }
  const session = ctx.uploads.start({
    bucket,
    name,
    metadata: { ...metadata, contentType: metadata.contentType ?? declaredType },
    preconditions: parsePreconditions(query),
    ...(declaredLength !== undefined && { declaredSize: Number(declaredLength) }),
  });
  ctx.stats.resumableSessions++;
  const location = new URL(`${ctx.baseUrl}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`);
  location.searchParams.set('uploadType', 'resumable');
  location.searchParams.set('name', name);
  location.searchParams.set('upload_id', session.id);
  sendEmpty(ctx.res, 200, { Location: location.toString(), 'X-GUploader-UploadID': session.id });
}

export async function putResumable(ctx: RequestContext, bucket: string): Promise<void> {
  const body = await readBody(ctx.req);
  ctx.log.uploadType = 'resumable';
  ctx.stats.resumableChunkRequests++;
  const session = ctx.uploads.session(ctx.url.searchParams.get('upload_id'));
  if (session.bucket !== bucket) throw notFound(`No such upload: ${session.id}`);
  const contentRange = header(ctx.req, 'content-range');
  if (contentRange !== undefined) ctx.log.contentRange = contentRange;
  const range = parseContentRange(contentRange);
  const fault = ctx.fault;
  const faultAt =
    fault?.instruction.kind === 'statusAfter' && range?.kind !== 'query'
      ? fault.instruction.afterBytes
      : undefined;
  const wasComplete = session.result !== undefined;
  const outcome = ctx.uploads.put(session, {
    range,
    body,
    declared: parseGoogHash(header(ctx.req, 'x-goog-hash')),
    ...(faultAt !== undefined && { faultAt }),
  });
  switch (outcome.kind) {
    case 'complete':
      if (wasComplete) sendJson(ctx.res, 200, objectResource(outcome.object, ctx.baseUrl));
      else created(ctx, 'resumable', outcome.object);
      return;
    case 'incomplete':
      sendEmpty(ctx.res, 308, outcome.persisted > 0 ? { Range: `bytes=0-${outcome.persisted - 1}` } : {});
      return;
    case 'faulted':
      fault?.apply();
      throw injected(fault?.instruction.kind === 'statusAfter' ? fault.instruction.code : 503);
  }
}

export async function cancelResumable(ctx: RequestContext, bucket: string): Promise<void> {
  await readBody(ctx.req);
  const id = ctx.url.searchParams.get('upload_id');
  if (ctx.uploads.session(id).bucket !== bucket) throw notFound(`No such upload: ${id}`);
  ctx.uploads.cancel(id);
  sendEmpty(ctx.res, 499, {}, 'Client Closed Request');
}

function created(ctx: RequestContext, type: UploadType, object: StoredObject): void {
  ctx.stats.uploads[type]++;
  sendJson(ctx.res, 200, objectResource(object, ctx.baseUrl));
}

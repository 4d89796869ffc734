// URL → route. JSON API paths are served both under /storage/v1 and bare (the client's STORAGE_EMULATOR_HOST
// mode uses the host itself as its base URL); media also under /download/storage/v1, uploads under
// /upload/storage/v1. POST /token stands for Google's OAuth token endpoint, for clients pointed at it. Path
// segments are percent-decoded one by one, so object names may contain '/'.
import { invalid } from './errors';
import type { Operation } from './instructions';

export type Route =
  | { kind: 'health' }
  | { kind: 'retryTestCreate' }
  | { kind: 'retryTestList' }
  | { kind: 'retryTestGet'; id: string }
  | { kind: 'retryTestDelete'; id: string }
  | { kind: 'bucketInsert' }
  | { kind: 'token' }
  | { kind: 'bucketGet'; bucket: string }
  | { kind: 'bucketTestIam'; bucket: string }
  | { kind: 'bucketGetIam'; bucket: string }
  | { kind: 'bucketSetIam'; bucket: string }
  | { kind: 'iamCreateServiceAccount'; project: string }
  | { kind: 'iamGenerateAccessToken'; email: string }
  | { kind: 'objectList'; bucket: string }
  | { kind: 'objectGet'; bucket: string; object: string; media: boolean }
  | { kind: 'objectDelete'; bucket: string; object: string }
  | { kind: 'objectPatch'; bucket: string; object: string }
  | { kind: 'uploadInsert'; bucket: string }
  | { kind: 'uploadPut'; bucket: string }
  | { kind: 'uploadCancel'; bucket: string };

export function matchRoute(method: string, url: URL): Route | undefined {
  const segments = url.pathname.split('/').slice(1).map(decodeSegment);
  const [first, second] = segments;
  if (segments.length === 1 && first === '') return method === 'GET' ? { kind: 'health' } : undefined;
  if (first === 'retry_test' && segments.length === 1 && method === 'POST')
    return { kind: 'retryTestCreate' };
  if (first === 'retry_tests' && segments.length === 1 && method === 'GET') return { kind: 'retryTestList' };
  if (first === 'retry_test' && segments.length === 2 && second !== undefined) {
    if (method === 'GET') return { kind: 'retryTestGet', id: second };
    if (method === 'DELETE') return { kind: 'retryTestDelete', id: second };
    return undefined;
  }
  if (first === 'token' && segments.length === 1) return method === 'POST' ? { kind: 'token' } : undefined;
  if (first === 'v1' && second === 'projects') return matchIam(method, segments.slice(2));
  if (first === 'upload') return matchUpload(method, stripApiPrefix(segments.slice(1)));
  if (first === 'download') {
    const rest = stripApiPrefix(segments.slice(1));
    const target = rest && objectTarget(rest);
    return method === 'GET' && target?.object !== undefined
      ? { kind: 'objectGet', bucket: target.bucket, object: target.object, media: true }
      : undefined;
  }
  return matchJson(method, url, stripApiPrefix(segments) ?? segments);
}

export function operationOf(route: Route): Operation | undefined {
  switch (route.kind) {
    case 'bucketGet':
      return 'storage.buckets.get';
    case 'bucketTestIam':
      return 'storage.buckets.testIamPermissions';
    case 'bucketInsert':
      return 'storage.buckets.insert';
    case 'objectList':
      return 'storage.objects.list';
    case 'objectGet':
      return 'storage.objects.get';
    case 'objectDelete':
    case 'uploadCancel':
      return 'storage.objects.delete';
    case 'objectPatch':
      return 'storage.objects.patch';
    case 'uploadInsert':
    case 'uploadPut':
      return 'storage.objects.insert';
    // No fault injection for IAM policies and the IAM APIs (the Retry Test API names no such operation).
    case 'bucketGetIam':
    case 'bucketSetIam':
    case 'iamCreateServiceAccount':
    case 'iamGenerateAccessToken':
    case 'health':
    case 'token':
    case 'retryTestCreate':
    case 'retryTestList':
    case 'retryTestGet':
    case 'retryTestDelete':
      return undefined;
  }
}

function matchJson(method: string, url: URL, segments: string[]): Route | undefined {
  if (segments.length === 1 && segments[0] === 'b')
    return method === 'POST' ? { kind: 'bucketInsert' } : undefined;
  const [b, iamBucket, iam, test] = segments;
  if (b === 'b' && iamBucket && iam === 'iam' && test === 'testPermissions' && segments.length === 4)
    return method === 'GET' ? { kind: 'bucketTestIam', bucket: iamBucket } : undefined;
  if (b === 'b' && iamBucket && iam === 'iam' && segments.length === 3) {
    if (method === 'GET') return { kind: 'bucketGetIam', bucket: iamBucket };
    if (method === 'PUT') return { kind: 'bucketSetIam', bucket: iamBucket };
    return undefined;
  }
  const target = objectTarget(segments);
  if (!target) return undefined;
  const { bucket, object } = target;
  if (object === undefined) {
    if (segments.length === 2) return method === 'GET' ? { kind: 'bucketGet', bucket } : undefined;
    return method === 'GET' ? { kind: 'objectList', bucket } : undefined;
  }
  switch (method) {
    case 'GET':
      return { kind: 'objectGet', bucket, object, media: url.searchParams.get('alt') === 'media' };
    case 'DELETE':
      return { kind: 'objectDelete', bucket, object };
    case 'PATCH':
      return { kind: 'objectPatch', bucket, object };
    default:
      return undefined;
  }
}

/** IAM: `{project}/serviceAccounts` (create); IAM Credentials: `-/serviceAccounts/{email}:generateAccessToken`. */
function matchIam(method: string, segments: string[]): Route | undefined {
  const [project, collection, name] = segments;
  if (method !== 'POST' || !project || collection !== 'serviceAccounts') return undefined;
  if (segments.length === 2) return { kind: 'iamCreateServiceAccount', project };
  const suffix = ':generateAccessToken';
  if (segments.length === 3 && name?.endsWith(suffix))
    return { kind: 'iamGenerateAccessToken', email: name.slice(0, -suffix.length) };
  return undefined;
}

function matchUpload(method: string, segments: string[] | undefined): Route | undefined {
  const target = segments && objectTarget(segments);
  if (!target || target.object !== undefined || segments?.length !== 3) return undefined;
  const { bucket } = target;
  switch (method) {
    case 'POST':
      return { kind: 'uploadInsert', bucket };
    case 'PUT':
      return { kind: 'uploadPut', bucket };
    case 'DELETE':
      return { kind: 'uploadCancel', bucket };
    default:
      return undefined;
  }
}

/** `b/{bucket}` (object undefined), `b/{bucket}/o` (object undefined, 3 segments) or `b/{bucket}/o/{name…}`. */
function objectTarget(segments: string[]): { bucket: string; object?: string } | undefined {
  const [b, bucket, o, ...name] = segments;
  if (b !== 'b' || !bucket) return undefined;
  if (o === undefined) return segments.length === 2 ? { bucket } : undefined;
  if (o !== 'o') return undefined;
  if (name.length === 0) return { bucket };
  const object = name.join('/');
  return object === '' ? undefined : { bucket, object };
}

function stripApiPrefix(segments: string[]): string[] | undefined {
  return segments[0] === 'storage' && segments[1] === 'v1' ? segments.slice(2) : undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalid(`Invalid percent-encoding in path segment: ${segment}`);
  }
}

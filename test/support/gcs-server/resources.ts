// JSON resources as the API returns them (https://cloud.google.com/storage/docs/json_api/v1/objects#resource,
// …/buckets#resource): 64-bit numbers as strings, RFC 3339 times.
import type { StoredBucket, StoredObject } from './store';

export interface ObjectResource {
  kind: 'storage#object';
  id: string;
  selfLink: string;
  mediaLink: string;
  name: string;
  bucket: string;
  generation: string;
  metageneration: string;
  contentType: string;
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  storageClass: 'STANDARD';
  size: string;
  md5Hash: string;
  crc32c: string;
  etag: string;
  timeCreated: string;
  updated: string;
  timeStorageClassUpdated: string;
  retentionExpirationTime?: string;
  metadata?: Record<string, string>;
}

const enc = encodeURIComponent;
const iso = (ms: number): string => new Date(ms).toISOString();

export function etagOf(object: StoredObject): string {
  return Buffer.from(`${object.generation}/${object.metageneration}`).toString('base64');
}

export function objectResource(object: StoredObject, baseUrl: string): ObjectResource {
  const path = `b/${enc(object.bucket)}/o/${enc(object.name)}`;
  return {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${baseUrl}/storage/v1/${path}`,
    mediaLink: `${baseUrl}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: String(object.generation),
    metageneration: String(object.metageneration),
    contentType: object.contentType,
    ...(object.contentEncoding !== undefined && { contentEncoding: object.contentEncoding }),
    ...(object.cacheControl !== undefined && { cacheControl: object.cacheControl }),
    ...(object.contentDisposition !== undefined && { contentDisposition: object.contentDisposition }),
    ...(object.contentLanguage !== undefined && { contentLanguage: object.contentLanguage }),
    storageClass: 'STANDARD',
    size: String(object.data.length),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etagOf(object),
    timeCreated: iso(object.timeCreated),
    updated: iso(object.updated),
    timeStorageClassUpdated: iso(object.timeCreated),
    ...(object.retentionExpiresAt !== undefined && {
      retentionExpirationTime: iso(object.retentionExpiresAt),
    }),
    ...(Object.keys(object.metadata).length > 0 && { metadata: { ...object.metadata } }),
  };
}

export interface BucketResource {
  kind: 'storage#bucket';
  id: string;
  selfLink: string;
  projectNumber: string;
  name: string;
  timeCreated: string;
  updated: string;
  metageneration: string;
  location: string;
  locationType: string;
  storageClass: 'STANDARD';
  etag: string;
  retentionPolicy?: { retentionPeriod: string; effectiveTime: string; isLocked: boolean };
}

export function bucketResource(bucket: StoredBucket, baseUrl: string): BucketResource {
  return {
    kind: 'storage#bucket',
    id: bucket.name,
    selfLink: `${baseUrl}/storage/v1/b/${enc(bucket.name)}`,
    projectNumber: '0',
    name: bucket.name,
    timeCreated: iso(bucket.timeCreated),
    updated: iso(bucket.timeCreated),
    metageneration: '1',
    location: 'US',
    locationType: 'multi-region',
    storageClass: 'STANDARD',
    etag: 'CAE=',
    ...(bucket.retentionPeriodSeconds !== undefined && {
      retentionPolicy: {
        retentionPeriod: String(bucket.retentionPeriodSeconds),
        effectiveTime: iso(bucket.timeCreated),
        isLocked: bucket.retentionLocked ?? false,
      },
    }),
  };
}

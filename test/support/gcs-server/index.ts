export { GcsServer, start, startGcsServer } from './server';
export type { BucketSeed, GcsServerOptions } from './server';
export type { GcsServerStats, RequestLogEntry, UploadType } from './context';
export type { RandomFaultRule, RetryTestResource } from './faults';
export type { Operation } from './instructions';
export type { ErrorBody } from './errors';
export type { ObjectResource, BucketResource } from './resources';
export type { StoredBucket, StoredObject } from './store';
export { crc32cBase64, md5Base64 } from './checksums';

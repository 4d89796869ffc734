import { z } from '../zod';

export interface GcsLocation {
  bucket: string;
  /** Object name, or prefix when the URI ends with "/" (empty: the whole bucket). */
  name: string;
}

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export function isValidBucketName(bucket: string): boolean {
  return BUCKET.test(bucket) && !bucket.includes('..');
}

export function parseGcsUri(uri: string): GcsLocation | undefined {
  const match = /^gs:\/\/([^/]+)\/(.*)$/s.exec(uri);
  if (!match) return undefined;
  const [, bucket = '', name = ''] = match;
  if (!isValidBucketName(bucket)) return undefined;
  if (Buffer.byteLength(name) > 1024 || /[\r\n]/.test(name)) return undefined;
  return { bucket, name };
}

export const formatGcsUri = (location: GcsLocation): string => `gs://${location.bucket}/${location.name}`;

export const bucketNameSchema = z
  .string()
  .refine(
    isValidBucketName,
    'must be a valid Cloud Storage bucket name (3-222 lowercase letters, digits, "-", "_", ".")',
  );

export const gcsObjectUriSchema = z.string().refine((uri) => {
  const location = parseGcsUri(uri);
  return location !== undefined && location.name !== '' && !location.name.endsWith('/');
}, 'must be gs://BUCKET/OBJECT');

export const gcsPrefixUriSchema = z.string().refine((uri) => {
  const location = parseGcsUri(uri);
  return location !== undefined && (location.name === '' || location.name.endsWith('/'));
}, 'must be gs://BUCKET/ or gs://BUCKET/PREFIX/ (ending with "/")');

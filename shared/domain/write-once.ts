import type { BucketStore, StorageFailure } from '../ports/bucket-store';
import { crc32cOf } from './checksum';
import type { ExportError } from './errors';
import { integrityError } from './errors';
import { PartSink } from './part-sink';

/** Writes a small object once; an existing object counts as written only if its CRC32C is ours. */
export async function writeSmallObjectOnce(
  store: BucketStore,
  bucket: string,
  name: string,
  content: string,
  contentType: string,
  classify: (error: StorageFailure) => ExportError,
): Promise<{ crc32c: string; bytes: number }> {
  const sink = new PartSink({ store, bucket, name, contentType, gzip: false, classify });
  if (content.length > 0) await sink.write(content, Buffer.byteLength(content));
  const part = await sink.close();
  const expected = crc32cOf(content);
  if (part.crc32c !== expected) {
    throw integrityError('checksumMismatch', `${name}: written bytes differ from the content`, {
      object: name,
    });
  }
  return { crc32c: part.crc32c, bytes: part.bytes };
}

import type { BucketStore, StorageFailure } from '../../ports/bucket-store.port';
import type { ExportError } from '../errors';
import { PartSink } from './part-sink';

/**
 * Writes a small object once, through the same sink as the parts: an existing object counts as written only if its
 * CRC32C is that of `content`, and a stored CRC32C that differs from the bytes sent is an integrity failure.
 */
export async function writeSmallObjectOnce(
  store: BucketStore,
  bucket: string,
  name: string,
  content: string,
  contentType: string,
  classify: (error: StorageFailure) => ExportError,
): Promise<{ crc32c: string; bytes: number }> {
  const sink = new PartSink({ store, bucket, name, contentType, gzip: false, classify });
  if (content.length > 0) await sink.write(Buffer.from(content), 1);
  const { crc32c, bytes } = await sink.close();
  return { crc32c, bytes };
}

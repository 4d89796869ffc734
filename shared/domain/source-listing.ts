import type { BucketStore } from '../ports/bucket-store';
import type { ExportRequest } from './request';
import type { NewlineFinder, PlannableObject } from './planner';
import { isGzipObject } from './planner';
import { formatGcsUri, parseGcsUri } from './source-uri';
import { classified, classifySourceFailure, mapFailure } from './storage-failures';
import { inputError } from './errors';

/** Resolves a request's objects and prefixes to a de-duplicated, ordered list of objects. */
export async function listSource(
  store: BucketStore,
  source: ExportRequest['source'],
): Promise<PlannableObject[]> {
  const found = new Map<string, PlannableObject>();
  const keep = (info: {
    bucket: string;
    name: string;
    size: number;
    contentType?: string;
    contentEncoding?: string;
  }) => {
    // Zero-byte "folder" placeholders and empty objects hold no records.
    if (info.name.endsWith('/') || info.size === 0) return;
    found.set(formatGcsUri(info), {
      bucket: info.bucket,
      name: info.name,
      size: info.size,
      gzip: isGzipObject(info),
    });
  };
  for (const uri of source.objects) {
    const { bucket, name } = parseGcsUri(uri) ?? { bucket: '', name: '' };
    const info = await mapFailure(store.stat(bucket, name), (e) => classifySourceFailure(e, uri));
    if (!info) throw inputError('sourceNotFound', `source object ${uri} does not exist`, { uri });
    keep(info);
  }
  for (const uri of source.prefixes) {
    const { bucket, name } = parseGcsUri(uri) ?? { bucket: '', name: '' };
    try {
      for await (const info of store.list(bucket, name)) keep(info);
    } catch (error) {
      throw classified(error, (e) => classifySourceFailure(e, uri));
    }
  }
  return [...found.values()].sort((a, b) =>
    a.bucket === b.bucket ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.bucket < b.bucket ? -1 : 1,
  );
}

/** Finds line boundaries by reading a small window at a time from the split point onwards. */
export function newlineFinder(store: BucketStore, windowBytes = 64 * 1024): NewlineFinder {
  return async (object, offset) => {
    for (let start = offset; start < object.size; start += windowBytes) {
      const end = Math.min(start + windowBytes, object.size);
      const chunks: Buffer[] = [];
      const uri = formatGcsUri(object);
      await mapFailure(
        (async () => {
          for await (const chunk of store.read(object.bucket, object.name, { start, end }))
            chunks.push(chunk as Buffer);
        })(),
        (e) => classifySourceFailure(e, uri),
      );
      const at = Buffer.concat(chunks).indexOf(0x0a);
      if (at !== -1) return start + at + 1;
    }
    return object.size;
  };
}

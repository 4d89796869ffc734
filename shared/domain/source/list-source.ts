import pLimit from 'p-limit';
import type { BucketStore } from '../../ports/bucket-store.port';
import type { ExportRequest } from '../export-request';
import type { NewlineFinder, PlannableObject } from './plan-chunks';
import { isGzipObject } from './plan-chunks';
import { withUncompressedSizes } from './gzip-sizes';
import { formatGcsUri, parseGcsUri } from './gcs-uri';
import { classified, classifySourceFailure, mapFailure } from '../storage-failures';
import { inputError } from '../errors';

/** Stats of named objects in flight at once: each is a round trip of tens of milliseconds to Cloud Storage. */
const STATS_IN_FLIGHT = 32;

async function readRange(
  store: BucketStore,
  object: PlannableObject,
  start: number,
  end: number,
): Promise<Buffer> {
  const uri = formatGcsUri(object);
  const chunks: Buffer[] = [];
  await mapFailure(
    (async () => {
      for await (const chunk of store.read(object.bucket, object.name, { start, end }))
        chunks.push(chunk as Buffer);
    })(),
    (e) => classifySourceFailure(e, uri),
  );
  return Buffer.concat(chunks);
}

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
  // One stat per named object is a round trip each: up to REQUEST_BOUNDS.objects of them run STATS_IN_FLIGHT at a
  // time, and the outcomes are taken in request order, so the failure reported is always the first named object's.
  const limit = pLimit(STATS_IN_FLIGHT);
  const stats = source.objects.map((uri) =>
    limit(async () => {
      const { bucket, name } = parseGcsUri(uri) ?? { bucket: '', name: '' };
      return mapFailure(store.stat(bucket, name), (e) => classifySourceFailure(e, uri));
    }),
  );
  const outcomes = await Promise.allSettled(stats);
  outcomes.forEach((outcome, i) => {
    const uri = source.objects[i];
    if (outcome.status === 'rejected') throw outcome.reason;
    if (!outcome.value) throw inputError('sourceNotFound', `source object ${uri} does not exist`, { uri });
    keep(outcome.value);
  });
  for (const uri of source.prefixes) {
    const { bucket, name } = parseGcsUri(uri) ?? { bucket: '', name: '' };
    try {
      for await (const info of store.list(bucket, name)) keep(info);
    } catch (error) {
      throw classified(error, (e) => classifySourceFailure(e, uri));
    }
  }
  // Sorted before sizing: which trailers are sampled depends on the order, and must depend only on the listing.
  const ordered = [...found.values()].sort((a, b) =>
    a.bucket === b.bucket ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.bucket < b.bucket ? -1 : 1,
  );
  return withUncompressedSizes(ordered, async (object) =>
    (await readRange(store, object, object.size - 4, object.size)).readUInt32LE(0),
  );
}

/** Finds line boundaries by reading a small window at a time from the split point onwards. */
export function newlineFinder(store: BucketStore, windowBytes = 64 * 1024): NewlineFinder {
  return async (object, offset) => {
    for (let start = offset; start < object.size; start += windowBytes) {
      const at = (await readRange(store, object, start, Math.min(start + windowBytes, object.size))).indexOf(
        0x0a,
      );
      if (at !== -1) return start + at + 1;
    }
    return object.size;
  };
}

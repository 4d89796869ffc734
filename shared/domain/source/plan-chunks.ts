import type { Slice } from '../documents';

/** An object of the source, as the planner sees it. */
export interface PlannableObject {
  bucket: string;
  name: string;
  size: number;
  gzip: boolean;
  /**
   * A gzip object's uncompressed size (from its trailer, or estimated from a sample of trailers: gzip-sizes.ts), so
   * that chunks are sized by what the workers read.
   */
  uncompressedSize?: number;
}

export interface PlannedChunk {
  index: number;
  slices: Slice[];
  bytes: number;
}

/** Returns the offset just past the first "\n" at or after `offset`, or the object's size when there is none. */
export type NewlineFinder = (object: PlannableObject, offset: number) => Promise<number>;

/** Keeps a chunk document far below Firestore's 1 MiB limit however small the objects are. */
export const MAX_SLICES_PER_CHUNK = 500;

export function isGzipObject(info: {
  name: string;
  contentType?: string;
  contentEncoding?: string;
}): boolean {
  return (
    /\.gz(ip)?$/i.test(info.name) ||
    info.contentEncoding === 'gzip' ||
    info.contentType === 'application/gzip' ||
    info.contentType === 'application/x-gzip'
  );
}

/**
 * Cuts the source into chunks of about `targetBytes` of uncompressed data:
 * - objects (and pieces) are grouped in order while the chunk stays within the target;
 * - a plain object larger than the target is split at newline-aligned byte ranges, so no line is ever cut: a piece
 *   ends at the first line end at or after the target, so it exceeds the target by less than one line;
 * - a gzip object cannot be split and is always a whole slice, weighed by its uncompressed size.
 * Every source byte lands in exactly one slice.
 */
export async function planChunks(
  objects: readonly PlannableObject[],
  targetBytes: number,
  newlineAfter: NewlineFinder,
): Promise<PlannedChunk[]> {
  if (!(targetBytes >= 1)) throw new RangeError('targetBytes must be at least 1');
  const chunks: PlannedChunk[] = [];
  let current: PlannedChunk | undefined;

  const add = (slice: Slice, size = slice.end - slice.start): void => {
    if (!current || current.bytes + size > targetBytes || current.slices.length >= MAX_SLICES_PER_CHUNK) {
      current = { index: chunks.length, slices: [], bytes: 0 };
      chunks.push(current);
    }
    current.slices.push(slice);
    current.bytes += size;
  };

  for (const object of objects) {
    if (object.size === 0) continue;
    const whole = { bucket: object.bucket, name: object.name, gzip: object.gzip };
    if (object.gzip || object.size <= targetBytes) {
      add(
        { ...whole, start: 0, end: object.size },
        object.gzip ? (object.uncompressedSize ?? object.size) : object.size,
      );
      continue;
    }
    for (let start = 0; start < object.size;) {
      const end =
        start + targetBytes >= object.size
          ? object.size
          : await newlineAfter(object, start + targetBytes - 1);
      add({ ...whole, start, end });
      start = end;
    }
  }
  return chunks;
}

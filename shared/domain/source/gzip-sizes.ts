import pLimit from 'p-limit';
import type { PlannableObject } from './plan-chunks';

/** Reads a gzip object's last 4 bytes (ISIZE: its uncompressed size modulo 2^32), one round trip to the store. */
export type TrailerReader = (object: PlannableObject) => Promise<number>;

// Each read is a round trip of a few tens of milliseconds to Cloud Storage: reading trailers is bound by latency,
// not bandwidth.
const TRAILER_READS_IN_FLIGHT = 64;
/** Deflate cannot expand more than ~1032:1; a larger figure means the object is not the gzip its name says. */
const MAX_DEFLATE_RATIO = 1032;
/** Below this a "gzip" object cannot hold a trailer worth reading (header, empty body and trailer take more). */
const MIN_GZIP_BYTES = 18;

/**
 * Gzip objects of at least this many stored bytes always have their trailer read. At the usual 5–10:1 of JSON lines
 * such an object is 20–40 MiB of data, a fifth or more of a default 100 MiB chunk, so an estimate's error on it
 * alone would unbalance a chunk; and its read is cheap beside the object: ~0.5 ms of planning (30 ms, 64 in flight)
 * against the seconds a worker spends on its 4+ MiB. Their number is bounded by the source's bytes / 4 MiB.
 */
export const EXACT_SIZE_MIN_BYTES = 4 * 1024 * 1024;
/** How many of the smaller gzip objects have their trailer read to estimate the others' compression ratio. */
export const SIZE_SAMPLE = 256;

interface TrailerSize {
  bytes: number;
  /** False when the trailer cannot be a gzip size: the object is weighed by its stored size, and left out of the ratio. */
  plausible: boolean;
}

/**
 * A trailer holds the size modulo 2^32: for a multi-member or a 4 GiB+ object it can be too small, so it never counts
 * for less than the compressed size.
 */
function fromTrailer(object: PlannableObject, trailer: number): TrailerSize {
  const plausible = trailer <= object.size * MAX_DEFLATE_RATIO;
  return { bytes: plausible ? Math.max(trailer, object.size) : object.size, plausible };
}

/** `count` objects spread evenly over `objects` (the middle of each of `count` equal stretches), or all of them. */
function evenSample<T>(objects: readonly T[], count: number): T[] {
  if (objects.length <= count) return [...objects];
  return Array.from(
    { length: count },
    (_, i) => objects[Math.floor(((2 * i + 1) * objects.length) / (2 * count))],
  );
}

/** Uncompressed over compressed bytes of the sample's plausible trailers, within what deflate can do (1 when none). */
function sampleRatio(
  sample: readonly PlannableObject[],
  read: ReadonlyMap<PlannableObject, TrailerSize>,
): number {
  let compressed = 0;
  let uncompressed = 0;
  for (const object of sample) {
    const size = read.get(object);
    if (!size?.plausible) continue;
    compressed += object.size;
    uncompressed += size.bytes;
  }
  return compressed === 0 ? 1 : Math.min(Math.max(uncompressed / compressed, 1), MAX_DEFLATE_RATIO);
}

/**
 * Gives every gzip object the uncompressed size the planner weighs it by, reading as few trailers as it can: one
 * per object of EXACT_SIZE_MIN_BYTES or more, and SIZE_SAMPLE among the smaller ones; each other small object is
 * weighed by its stored size times the sample's ratio. With SIZE_SAMPLE or fewer small objects all are read, exactly.
 *
 * Why an estimate is safe: chunks only need to be roughly even. A worker streams its chunk with memory bounded by
 * the parts it has open, never by the chunk's size, so a chunk that turns out larger than planned only takes longer.
 * Every byte still lands in exactly one slice. How far off: a chunk's real size is its planned size times between
 * (lowest / sample) and (highest / sample) ratio of its estimated objects. Data of one kind compresses alike, so its
 * chunks land close to the target; a source mixing kinds whose ratios differ k-fold can plan chunks up to k times
 * the target (or 1/k of it). A chunk has 540 s and takes ~10 s per 100 MiB here, so k up to ~50 still fits.
 *
 * `objects` must be in plan order: the sample depends only on the listing, so the same listing gives the same plan.
 */
export async function withUncompressedSizes(
  objects: readonly PlannableObject[],
  readTrailer: TrailerReader,
): Promise<PlannableObject[]> {
  const gzip = objects.filter((o) => o.gzip && o.size >= MIN_GZIP_BYTES);
  const sample = evenSample(
    gzip.filter((o) => o.size < EXACT_SIZE_MIN_BYTES),
    SIZE_SAMPLE,
  );
  const toRead = [...gzip.filter((o) => o.size >= EXACT_SIZE_MIN_BYTES), ...sample];
  const limit = pLimit(TRAILER_READS_IN_FLIGHT);
  const read = new Map(
    await Promise.all(
      toRead.map((o) => limit(async () => [o, fromTrailer(o, await readTrailer(o))] as const)),
    ),
  );
  const ratio = sampleRatio(sample, read);
  return objects.map((o) => {
    if (!o.gzip || o.size < MIN_GZIP_BYTES) return o;
    return { ...o, uncompressedSize: read.get(o)?.bytes ?? Math.round(o.size * ratio) };
  });
}

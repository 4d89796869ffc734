/**
 * Short copies between buffers without Buffer#copy. On Node 20, Buffer#copy costs ~90 ns a call whatever the length
 * and makes a Uint8Array of the source's range each time: the record path copies one to three short stretches per
 * record, and those views were a third of its heap garbage (docs/PERFORMANCE.md, "Copies without Buffer#copy"). A
 * loop of 32-bit reads and writes through DataViews costs less up to a few hundred bytes; longer copies stay
 * Buffer#copy's (a memcpy).
 */

/** Copies of up to this many bytes are a loop of words; longer ones Buffer#copy. */
export const SHORT_COPY = 512;

/** A DataView of exactly `bytes`. */
export const viewOf = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Copies source[start, end) into target at `at`, given a view of each (`viewOf`); returns the count. The ranges must
 * lie within the buffers (a DataView throws RangeError otherwise) and must not overlap.
 */
export function copyBytes(
  source: Buffer,
  sourceView: DataView,
  start: number,
  end: number,
  target: Buffer,
  targetView: DataView,
  at: number,
): number {
  const count = end - start;
  if (count > SHORT_COPY) return source.copy(target, at, start, end);
  let i = start;
  let to = at;
  for (const words = end - 3; i < words; i += 4, to += 4)
    targetView.setInt32(to, sourceView.getInt32(i, true), true);
  for (; i < end; i += 1, to += 1) targetView.setUint8(to, sourceView.getUint8(i));
  return count;
}

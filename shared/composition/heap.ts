import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what a full collection left alive before it starts the next one:
 * 200 % (a factor of 3). V8 chooses a factor of up to 4 itself, but only where the heap may grow to 2 GiB or more.
 *
 * Below that, which a function instance of 1 GiB is however its heap is set, V8 caps the factor at 1.3–2.0 (1.4 at a
 * limit of 512 MiB, 1.6 at 1 GiB). A chunk's heap is small (17 MB after a full collection) and every Buffer made
 * since the last full collection counts against its limit: the store's reads, gunzip's and gzip's output, 337 MiB of
 * them per 256 MiB chunk. So with the capped factor V8 starts a full collection every 150–250 ms through a whole
 * chunk: 22–32 of them per 256 MiB chunk against 5 with this factor, 5–9 % of the chunk's CPU time (on heaps of
 * 1 GiB and 512 MiB). A factor of 4 saved no more CPU, and a Parquet chunk with a block worker peaked at 240 MiB
 * with it, against 215 with 3 (docs/PERFORMANCE.md, "A function's heap and V8's growing factor").
 *
 * The flag is V8's own (`--heap-growing-percent`), read each time V8 sets a limit; NODE_OPTIONS refuses it, so the
 * composition roots set it when an instance starts (setting it again changes nothing). It applies to the whole
 * process, block workers included, whose heaps keep their own bounds (adapters/threads/piscina-block-processor.ts).
 */
export const HEAP_GROWING_PERCENT = 200;

/** Sets V8's heap growing factor for this process. */
export function tuneHeapGrowing(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

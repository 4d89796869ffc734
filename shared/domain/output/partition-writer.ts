import type { FileEntry } from '../documents';
import type { PartitionKey } from './layout';
import type { PartSink } from './part-sink';
import { PartitionSpill } from './partition-spill';
import { truncateUtf8 } from '../records/sanitize';

/**
 * The raw event name a file entry carries is cut to this many UTF-8 bytes: a name can be as long as a line, and
 * file entries are kept in Firestore (file pages) before they reach the manifest.
 */
export const MAX_FILE_EVENT_BYTES = 1024;

interface OpenPart {
  key: PartitionKey;
  part: number;
  sink: PartSink;
}

export interface PartitionWriterOptions {
  chunk: number;
  maxPartBytes: number;
  /** Bounds memory when a chunk holds many partitions: further partitions wait in the spill (partition-spill.ts). */
  maxOpenParts: number;
  openPart(key: PartitionKey, part: number): Promise<PartSink>;
  /** Tests make the spill small: bytes staged before compressing, compressed bytes before writing out early. */
  spill?: { stageBytes: number; limitBytes: number };
}

const NEWLINE = 0x0a;

function countLines(lines: Buffer): number {
  let count = 0;
  for (let at = lines.indexOf(NEWLINE); at !== -1; at = lines.indexOf(NEWLINE, at + 1)) count += 1;
  return count;
}

/**
 * Routes whole lines to one part per partition, rolling a partition over to its next part before the part would
 * exceed maxPartBytes (uncompressed, so the stored object is never larger either).
 *
 * At most maxOpenParts parts are open at once. A part stays open until it is full or the chunk ends, and the lines
 * of partitions beyond the limit are spilled (compressed, in memory) and written after the open parts are closed,
 * one partition at a time. So every partition gets the fewest objects its size allows, in any record order.
 */
export class PartitionWriter {
  private readonly open = new Map<string, OpenPart>();
  private readonly nextPart = new Map<string, number>();
  private readonly written: FileEntry[] = [];
  private readonly spill: PartitionSpill;

  constructor(private readonly options: PartitionWriterOptions) {
    this.spill = new PartitionSpill(options.spill?.stageBytes, options.spill?.limitBytes);
  }

  /** `lines`: whole lines of one partition, each ending in "\n"; `records`: how many. */
  async write(key: PartitionKey, lines: Buffer, records: number): Promise<void> {
    if (lines.length === 0) return;
    if (
      !this.open.has(key.folder) &&
      (this.open.size >= this.options.maxOpenParts || this.spill.has(key.folder))
    ) {
      // Once spilled, a partition stays spilled, so that its lines keep their order.
      if (await this.spill.add(key, lines)) await this.writeOut(this.spill.takeLargest());
      return;
    }
    await this.writeOpen(key, lines, records);
  }

  private async writeOpen(key: PartitionKey, lines: Buffer, records: number): Promise<void> {
    let rest = lines;
    let restRecords = records;
    for (;;) {
      const entry = this.open.get(key.folder) ?? (await this.openPart(key));
      const room = this.options.maxPartBytes - entry.sink.uncompressedBytes;
      if (rest.length <= room) {
        await entry.sink.write(rest, restRecords);
        return;
      }
      // The lines that still fit, or one line alone in an empty part (a line longer than a part).
      let cut = room > 0 ? rest.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
      if (cut === 0 && entry.sink.records === 0) cut = rest.indexOf(NEWLINE) + 1;
      if (cut > 0) {
        const head = rest.subarray(0, cut);
        const count = countLines(head);
        await entry.sink.write(head, count);
        rest = rest.subarray(cut);
        restRecords -= count;
      }
      await this.closePart(entry);
      if (rest.length === 0) return;
    }
  }

  /** Writes a spilled partition as parts of its own now (all of it when `folder` is undefined). */
  private async writeOut(key: PartitionKey | undefined): Promise<void> {
    if (!key) return;
    for await (const { lines } of this.spill.drain(key.folder))
      await this.writeOpen(key, lines, countLines(lines));
    await this.closeOpen(key);
  }

  private async openPart(key: PartitionKey): Promise<OpenPart> {
    const part = this.nextPart.get(key.folder) ?? 0;
    this.nextPart.set(key.folder, part + 1);
    const entry = { key, part, sink: await this.options.openPart(key, part) };
    this.open.set(key.folder, entry);
    return entry;
  }

  private async closePart(entry: OpenPart): Promise<void> {
    this.open.delete(entry.key.folder);
    const written = await entry.sink.close();
    this.written.push({
      name: written.name,
      records: written.records,
      bytes: written.bytes,
      crc32c: written.crc32c,
      chunk: this.options.chunk,
      part: entry.part,
      dt: entry.key.dt,
      ...(entry.key.eventName === undefined
        ? {}
        : { event: truncateUtf8(entry.key.eventName, MAX_FILE_EVENT_BYTES) }),
    });
  }

  /** Closes every open part, writes the spilled partitions, and returns all files of the chunk, ordered by name. */
  async finish(): Promise<FileEntry[]> {
    for (const entry of [...this.open.values()]) await this.closePart(entry);
    let current: PartitionKey | undefined;
    for await (const { key, lines } of this.spill.drain()) {
      if (current && current.folder !== key.folder) await this.closeOpen(current);
      current = key;
      await this.writeOpen(key, lines, countLines(lines));
    }
    if (current) await this.closeOpen(current);
    return [...this.written].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async closeOpen(key: PartitionKey): Promise<void> {
    const entry = this.open.get(key.folder);
    if (entry) await this.closePart(entry);
  }

  abort(reason: Error): void {
    for (const entry of this.open.values()) entry.sink.abort(reason);
    this.open.clear();
  }
}

import type { FileEntry } from '../documents';
import type { PartitionKey } from './layout';
import type { PartSink } from './part-sink';

interface OpenPart {
  key: PartitionKey;
  part: number;
  sink: PartSink;
}

export interface PartitionWriterOptions {
  chunk: number;
  maxPartBytes: number;
  /** Bounds memory when a chunk holds many partitions: the least recently used part is closed first. */
  maxOpenParts: number;
  openPart(key: PartitionKey, part: number): Promise<PartSink>;
}

/**
 * Routes serialised records to one part per partition, rolling a partition over to its next part before the
 * part would exceed maxPartBytes (uncompressed, so the stored object is never larger either).
 */
export class PartitionWriter {
  private readonly open = new Map<string, OpenPart>();
  private readonly nextPart = new Map<string, number>();
  private readonly written: FileEntry[] = [];

  constructor(private readonly options: PartitionWriterOptions) {}

  async write(key: PartitionKey, line: string): Promise<void> {
    const bytes = Buffer.byteLength(line);
    let entry = this.open.get(key.folder);
    if (entry) {
      // Map order doubles as recency order.
      this.open.delete(key.folder);
      this.open.set(key.folder, entry);
      if (entry.sink.records > 0 && entry.sink.uncompressedBytes + bytes > this.options.maxPartBytes) {
        await this.closePart(entry);
        entry = undefined;
      }
    }
    if (!entry) entry = await this.openPart(key);
    await entry.sink.write(line, bytes);
  }

  private async openPart(key: PartitionKey): Promise<OpenPart> {
    const leastRecent = this.open.values().next();
    if (this.open.size >= this.options.maxOpenParts && !leastRecent.done)
      await this.closePart(leastRecent.value);
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
      ...(entry.key.eventName === undefined ? {} : { event: entry.key.eventName }),
    });
  }

  /** Closes every open part and returns all files of the chunk, ordered by name. */
  async finish(): Promise<FileEntry[]> {
    for (const entry of [...this.open.values()]) await this.closePart(entry);
    return [...this.written].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  abort(reason: Error): void {
    for (const entry of this.open.values()) entry.sink.abort(reason);
    this.open.clear();
  }
}

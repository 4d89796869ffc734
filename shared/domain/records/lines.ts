import { SpareBuffers } from './spare-buffers';

/** One line of a source object, without its terminator ("\n" or "\r\n"). */
export interface SourceLine {
  text: Buffer;
  /** 1-based, counted from the start of the stream. */
  number: number;
  /** Byte offset of the line's first byte, counted from the start of the stream. */
  offset: number;
  /** True when the line exceeded maxBytes; `text` then holds only its first maxBytes bytes. */
  tooLong: boolean;
}

/**
 * Whole lines of a stream, cut into blocks so that the work per line happens in bulk (and can move to another
 * thread): every line of `bytes` is complete, except that the stream's last line may lack its "\n".
 */
export interface LineBlock {
  kind: 'block';
  bytes: Buffer;
  /** Byte offset of the block's first byte in the stream. */
  offset: number;
}

/** A line much longer than maxBytes: only its first maxBytes bytes are kept, so memory stays bounded. */
export interface LongLine {
  kind: 'long';
  head: Buffer;
  offset: number;
  /** The whole line's bytes, terminator included. */
  bytes: number;
}

export type BlockItem = LineBlock | LongLine;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
export const DEFAULT_BLOCK_BYTES = 1024 * 1024;

/** What reads the lines of a block: `line(start, end)` once per line, `end` excluding its terminator. */
export interface LineVisitor {
  line(start: number, end: number): void;
}

/**
 * Calls `visitor.line(start, end)` for each line of a block; `end` excludes the terminator ("\n" or "\r\n"). A
 * visitor rather than a callback: the record path's visitor is one class's instance per block, whose method is
 * compiled once, where a closure made per block was compiled again for each (docs/PERFORMANCE.md, "Code compiled
 * once").
 */
export function forEachLine(bytes: Buffer, visitor: LineVisitor): void {
  let start = 0;
  for (let newline = bytes.indexOf(NEWLINE); newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
    visitor.line(start, newline > start && bytes[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline);
    start = newline + 1;
  }
  if (start < bytes.length) visitor.line(start, bytes.length);
}

/** Spare block buffers, made with room beyond `DEFAULT_BLOCK_BYTES`: a block ends at the first line end past it. */
export function blockBuffers(keep: number): SpareBuffers {
  const room = DEFAULT_BLOCK_BYTES + 512 * 1024;
  return new SpareBuffers({ keep, smallest: room, largest: room });
}

/** The first `limit` bytes of some buffers, as one. */
function headOf(pieces: readonly Buffer[], limit: number): Buffer {
  const all = pieces.length === 1 ? (pieces[0] ?? Buffer.alloc(0)) : Buffer.concat(pieces);
  return all.length > limit ? all.subarray(0, limit) : all;
}

/**
 * Splits a byte stream into blocks of whole lines of about `blockBytes` (a block ends at a line end), holding
 * at most one block plus one line in memory. A line that grows beyond maxBytes + 1 without an end (the 1 is for a
 * "\r") is not buffered: it comes out as a LongLine with its first maxBytes bytes.
 */
export async function* splitBlocks(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
  blockBytes = DEFAULT_BLOCK_BYTES,
  buffers?: SpareBuffers,
): AsyncGenerator<BlockItem> {
  let pieces: Buffer[] = [];
  let piecesBytes = 0;
  let offset = 0;
  // The current line, not yet ended; in "long" mode only its head is kept.
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let long = false;

  const block = (): LineBlock => {
    const item: LineBlock = { kind: 'block', bytes: joined(pieces, piecesBytes), offset };
    offset += piecesBytes;
    pieces = [];
    piecesBytes = 0;
    return item;
  };
  const joined = (list: Buffer[], bytes: number): Buffer => {
    if (!buffers) return Buffer.concat(list, bytes);
    const out = buffers.take(bytes);
    let at = 0;
    for (const piece of list) at += piece.copy(out, at);
    return out;
  };
  const longLine = (terminatorBytes: number): LongLine => {
    const item: LongLine = {
      kind: 'long',
      head: headOf(tail, maxBytes),
      offset,
      bytes: tailBytes + terminatorBytes,
    };
    offset += tailBytes + terminatorBytes;
    tail = [];
    tailBytes = 0;
    long = false;
    return item;
  };
  const keepTail = (bytes: Buffer): void => {
    tailBytes += bytes.length;
    if (!long || tailBytes - bytes.length < maxBytes) tail.push(bytes);
    if (long && tail.length > 1) tail = [headOf(tail, maxBytes)];
  };

  try {
    for await (const chunk of source) yield* take(chunk);
  } catch (error) {
    // A source that fails mid-way (a truncated gzip object): the whole lines read so far still count.
    if (piecesBytes > 0) yield block();
    throw error;
  }
  if (long) {
    yield longLine(0);
    return;
  }
  pieces.push(...tail);
  piecesBytes += tailBytes;
  if (piecesBytes > 0) yield block();

  function* take(chunk: Buffer): Generator<BlockItem> {
    let rest = chunk;
    if (long) {
      const newline = rest.indexOf(NEWLINE);
      if (newline === -1) {
        keepTail(rest);
        return;
      }
      keepTail(rest.subarray(0, newline));
      yield longLine(1);
      rest = rest.subarray(newline + 1);
    }
    const last = rest.lastIndexOf(NEWLINE);
    if (last === -1) {
      keepTail(rest);
    } else {
      pieces.push(...tail, rest.subarray(0, last + 1));
      piecesBytes += tailBytes + last + 1;
      tail = [rest.subarray(last + 1)];
      tailBytes = rest.length - last - 1;
      if (piecesBytes >= blockBytes) yield block();
    }
    if (!long && tailBytes > maxBytes + 1) {
      if (piecesBytes > 0) yield block();
      long = true;
      tail = [headOf(tail, maxBytes)];
    }
  }
}

/**
 * Splits a byte stream into lines without ever holding more than one block (plus one line, capped at maxBytes)
 * in memory, so memory stays flat however large the object is.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
  blockBytes = DEFAULT_BLOCK_BYTES,
): AsyncGenerator<SourceLine> {
  let number = 0;
  for await (const item of splitBlocks(source, maxBytes, blockBytes)) {
    if (item.kind === 'long') {
      number += 1;
      yield { text: item.head, number, offset: item.offset, tooLong: true };
      continue;
    }
    const lines: SourceLine[] = [];
    forEachLine(item.bytes, {
      line: (start, end) => {
        number += 1;
        const tooLong = end - start > maxBytes;
        const text = item.bytes.subarray(start, tooLong ? start + maxBytes : end);
        lines.push({ text, number, offset: item.offset + start, tooLong });
      },
    });
    yield* lines;
  }
}

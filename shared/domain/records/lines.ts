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

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into lines without ever holding more than one line (capped at maxBytes) in memory,
 * so memory stays flat however large the object is.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<SourceLine> {
  let pieces: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let lastByte = -1;
  let number = 0;
  let offset = 0;

  /** `terminated`: the line ended with "\n", so a "\r" before it is part of the terminator, not of the line. */
  const take = (terminated: boolean): SourceLine => {
    const carriageReturn = terminated && lastByte === CARRIAGE_RETURN;
    const contentLength = carriageReturn ? length - 1 : length;
    let text = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, kept);
    if (text.length > contentLength) text = text.subarray(0, contentLength);
    number += 1;
    const line = { text, number, offset, tooLong: contentLength > maxBytes };
    pieces = [];
    kept = 0;
    return line;
  };

  const keep = (bytes: Buffer): void => {
    if (bytes.length === 0) return;
    length += bytes.length;
    lastByte = bytes[bytes.length - 1] ?? -1;
    const room = maxBytes - kept;
    if (room <= 0) return;
    const piece = bytes.length > room ? bytes.subarray(0, room) : bytes;
    pieces.push(piece);
    kept += piece.length;
  };

  for await (const chunk of source) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      keep(chunk.subarray(start, end));
      yield take(true);
      offset += length + 1;
      length = 0;
      lastByte = -1;
      start = end + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
  }
  if (length > 0) yield take(false);
}

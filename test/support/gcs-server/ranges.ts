// Range (downloads) and Content-Range (resumable uploads) headers.
import { invalid, rangeNotSatisfiable } from './errors';

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * `bytes=a-b`, `bytes=a-` and `bytes=-n`; undefined means "the whole object" (no header, a header this server
 * ignores as RFC 9110 allows, or an empty object). A range starting past the end is 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || size === 0 || (match[1] === '' && match[2] === '')) return undefined;
  const [, first, last] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw rangeNotSatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) throw rangeNotSatisfiable();
  return { start, end };
}

export type UploadRange =
  // `bytes */total` or `bytes */*`: a status query (or, with total = bytes persisted, a finalisation).
  | { kind: 'query'; total?: number }
  // `bytes first-last/total`; last is undefined for the client's `bytes first-*/total` form.
  | { kind: 'data'; first: number; last?: number; total?: number };

export function parseContentRange(header: string | undefined): UploadRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes (?:(\*)|(\d+)-(\d+|\*))\/(\*|\d+)$/.exec(header.trim());
  if (!match) throw invalid(`Failed to parse Content-Range header: ${header}`);
  const [, star, first, last, rawTotal] = match;
  const total = rawTotal === '*' ? undefined : Number(rawTotal);
  if (star) return { kind: 'query', total };
  const range: UploadRange = {
    kind: 'data',
    first: Number(first),
    last: last === '*' ? undefined : Number(last),
    total,
  };
  if (range.last !== undefined && range.last < range.first) throw invalid(`Invalid Content-Range: ${header}`);
  return range;
}

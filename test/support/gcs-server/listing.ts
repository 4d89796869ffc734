// objects.list (https://cloud.google.com/storage/docs/json_api/v1/objects/list): prefix, delimiter (names with
// the delimiter after the prefix collapse into prefixes[]), startOffset/endOffset, and pages of at most
// maxResults entries of items[] and prefixes[] combined, in lexicographic (UTF-8 byte) order.
import { invalid } from './errors';
import type { StoredObject } from './store';

export interface ListQuery {
  prefix: string;
  delimiter: string;
  maxResults: number;
  pageToken?: string;
  startOffset?: string;
  endOffset?: string;
}

export interface ListPage {
  items: StoredObject[];
  prefixes: string[];
  nextPageToken?: string;
}

const MAX_RESULTS = 1000;

export function parseListQuery(query: URLSearchParams): ListQuery {
  const rawMax = query.get('maxResults');
  if (rawMax !== null && !/^\d+$/.test(rawMax)) throw invalid(`Invalid unsigned integer value: '${rawMax}'.`);
  const maxResults =
    rawMax === null || Number(rawMax) === 0 ? MAX_RESULTS : Math.min(Number(rawMax), MAX_RESULTS);
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: query.get('delimiter') ?? '',
    maxResults,
    pageToken: query.get('pageToken') ?? undefined,
    startOffset: query.get('startOffset') ?? undefined,
    endOffset: query.get('endOffset') ?? undefined,
  };
}

type Entry = { key: string; item?: StoredObject };

export function listObjects(objects: Iterable<StoredObject>, q: ListQuery): ListPage {
  const after = q.pageToken === undefined ? undefined : decodeToken(q.pageToken);
  const entries = new Map<string, Entry>();
  for (const object of objects) {
    const name = object.name;
    if (!name.startsWith(q.prefix)) continue;
    if (q.startOffset !== undefined && compare(name, q.startOffset) < 0) continue;
    if (q.endOffset !== undefined && compare(name, q.endOffset) >= 0) continue;
    const at = q.delimiter ? name.indexOf(q.delimiter, q.prefix.length) : -1;
    if (at >= 0) {
      const key = name.slice(0, at + q.delimiter.length);
      entries.set(key, { key });
    } else {
      entries.set(name, { key: name, item: object });
    }
  }
  const sorted = [...entries.values()]
    .filter((e) => after === undefined || compare(e.key, after) > 0)
    .sort((a, b) => compare(a.key, b.key));
  const page = sorted.slice(0, q.maxResults);
  const last = page.at(-1);
  return {
    items: page.flatMap((e) => (e.item ? [e.item] : [])),
    prefixes: page.filter((e) => !e.item).map((e) => e.key),
    ...(sorted.length > page.length && last && { nextPageToken: encodeToken(last.key) }),
  };
}

/** GCS orders names by their UTF-8 bytes, which differs from JS's UTF-16 order above the BMP. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function encodeToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey }), 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'after' in parsed && typeof parsed.after === 'string') {
      return parsed.after;
    }
  } catch {
    // fall through
  }
  throw invalid('Invalid pageToken');
}

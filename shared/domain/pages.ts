import type { FieldEquals, StateStore } from '../ports/state-store.port';
import { inputError } from './errors';
import { z } from './zod';

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** `?pageSize=&pageToken=` of every list route; the token is opaque to callers. */
export const pageRequestSchema = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  pageToken: z.string().min(1).max(1024).optional(),
});
export type PageRequest = z.input<typeof pageRequestSchema>;

export interface Page<T> {
  items: T[];
  /** Present when there may be more: pass it as `pageToken` to get the next page. */
  nextPageToken?: string;
}

export const encodePageToken = (position: string): string =>
  Buffer.from(position, 'utf8').toString('base64url');

/** The position a token stands for; a token that is not one of ours is the caller's mistake. */
export function decodePageToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const position = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (position === '' || position.includes('/') || encodePageToken(position) !== token)
    throw inputError('invalidQuery', 'pageToken: is not a token this API returned');
  return position;
}

/** The page size and start position of a request, validated. */
export function pagePosition(request: PageRequest = {}): { pageSize: number; startAfter?: string } {
  const parsed = pageRequestSchema.safeParse(request);
  if (!parsed.success) {
    throw inputError('invalidQuery', `pageSize: must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const startAfter = decodePageToken(parsed.data.pageToken);
  return { pageSize: parsed.data.pageSize, ...(startAfter === undefined ? {} : { startAfter }) };
}

/**
 * One page of a collection's documents matching `where`, in document-id order. One more document than the page
 * holds is read, so that the last page has no token.
 */
export async function listPage<T>(
  state: StateStore,
  collection: string,
  where: readonly FieldEquals[],
  request: PageRequest | undefined,
  parse: (id: string, data: unknown) => T,
): Promise<Page<T>> {
  const { pageSize, startAfter } = pagePosition(request);
  const docs = await state.list(collection, {
    where,
    limit: pageSize + 1,
    ...(startAfter === undefined ? {} : { startAfter }),
  });
  const shown = docs.slice(0, pageSize);
  const last = shown[shown.length - 1];
  return {
    items: shown.map((doc) => parse(doc.id, doc.data)),
    ...(docs.length > pageSize && last ? { nextPageToken: encodePageToken(last.id) } : {}),
  };
}

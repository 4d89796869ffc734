import { MemoryStateStore } from '../../../shared/adapters/local/memory-state-store';
import { ExportError } from '../../../shared/domain/errors';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  decodePageToken,
  encodePageToken,
  listPage,
  pagePosition,
} from '../../../shared/domain/pages';

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof ExportError ? error.code : 'not an ExportError';
  }
};

describe('pages', () => {
  it('reads the page size and position of a request, with the default size', () => {
    expect(pagePosition()).toEqual({ pageSize: DEFAULT_PAGE_SIZE });
    expect(pagePosition({ pageSize: '7', pageToken: encodePageToken('a~d3') })).toEqual({
      pageSize: 7,
      startAfter: 'a~d3',
    });
  });

  it.each([['0'], [String(MAX_PAGE_SIZE + 1)], ['2.5'], ['x']])(
    'refuses page size %s as invalidQuery',
    (size) => {
      expect(codeOf(() => pagePosition({ pageSize: size }))).toBe('invalidQuery');
    },
  );

  it.each([
    ['not base64url', 'not ours!'],
    ['a non-canonical encoding', `${encodePageToken('a~d')}A`],
    ['a position with a slash', encodePageToken('exports/a~d')],
  ])('refuses a token that is %s', (_name, token) => {
    expect(codeOf(() => decodePageToken(token))).toBe('invalidQuery');
  });

  it('pages through the documents matching the query in id order, each once, with no token on the last page', async () => {
    const state = new MemoryStateStore();
    for (const id of ['a~3', 'a~1', 'b~1', 'a~2', 'a~5', 'a~4'])
      await state.create(`destinations/${id}`, { accountId: id.split('~')[0] });
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await listPage(
        state,
        'destinations',
        [{ field: 'accountId', equals: 'a' }],
        { pageSize: 2, ...(pageToken ? { pageToken } : {}) },
        (id) => id,
      );
      seen.push(...page.items);
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken);
    expect(seen).toEqual(['a~1', 'a~2', 'a~3', 'a~4', 'a~5']);
    expect(pages).toBe(3);
  });
});

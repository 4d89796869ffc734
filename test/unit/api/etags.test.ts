import { etagOf, ifMatchHolds, requireMatch } from '../../../shared/api/etags';

describe('entity tags and If-Match (RFC 9110 §13.1.1)', () => {
  const tag = etagOf({ nickname: 'a' });

  it('tags the same representation alike and another one differently, as a quoted strong tag', () => {
    expect(tag).toMatch(/^"[\w-]{27}"$/);
    expect(etagOf({ nickname: 'a' })).toBe(tag);
    expect(etagOf({ nickname: 'b' })).not.toBe(tag);
  });

  it('holds without If-Match (optional), for *, and for a list holding the current tag', () => {
    expect(ifMatchHolds(undefined, tag)).toBe(true);
    expect(ifMatchHolds('*', tag)).toBe(true);
    expect(ifMatchHolds(`"other", ${tag}`, tag)).toBe(true);
  });

  it('fails for another tag, and for the weak form of the current one (strong comparison)', () => {
    expect(ifMatchHolds('"other"', tag)).toBe(false);
    expect(ifMatchHolds(`W/${tag}`, tag)).toBe(false);
    expect(ifMatchHolds('', tag)).toBe(false);
  });

  it('refuses a mismatch with 412 preconditionFailed that repeats no tag', () => {
    expect(() => requireMatch('"stale-tag-sent"', { nickname: 'a' })).toThrow(
      expect.objectContaining({ code: 'preconditionFailed' }) as Error,
    );
    try {
      requireMatch('"stale-tag-sent"', { nickname: 'a' });
    } catch (error) {
      expect((error as Error).message).not.toContain('stale-tag-sent');
    }
    expect(() => requireMatch(tag, { nickname: 'a' })).not.toThrow();
  });
});

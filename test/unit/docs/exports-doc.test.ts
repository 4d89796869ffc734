import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runIdFor } from '../../../shared/domain/ids';
import { parseSourceLine } from '../../../shared/domain/records/parse-record';
import type { ExportKind } from '../../../shared/domain/export-request';
import { REPO_ROOT } from '../../support/repo-root';

/** docs/EXPORTS.md's claims about the records and the layout, checked against the code that keeps them. */
const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'EXPORTS.md'), 'utf8').replace(/\s+/g, ' ');

describe('docs/EXPORTS.md', () => {
  it('gives {run} the length run ids have', () => {
    const claimed = /`\{run\}` is a (\d+)-hex-digit id/.exec(doc)?.[1];
    expect(Number(claimed)).toBe(runIdFor('acct', 'req').length);
  });

  // "…quarantined: `name`, `time`, … in an event, `id`, `time`, … in a profile."
  const onceOnly = (kind: string): string[] => {
    const list = new RegExp(
      `quarantined: ((?:\`\\w+\`(?:, | or )?)+) in an event, ((?:\`\\w+\`(?:, | or )?)+) in a profile`,
    ).exec(doc);
    const text = (kind === 'events' ? list?.[1] : list?.[2]) ?? '';
    return [...text.matchAll(/`(\w+)`/g)].map((m) => m[1] ?? '');
  };

  it.each<[ExportKind, string]>([
    ['events', '{"name":"x","time":0'],
    ['profiles', '{"id":"u","time":0'],
  ])('names the %s fields that may appear only once, and no other', (kind, start) => {
    const fields = onceOnly(kind);
    expect(fields.length).toBeGreaterThan(3);
    for (const field of fields) {
      const line = `${start},"${field}":{},"${field}":{}}`;
      const result = parseSourceLine(kind, line);
      expect(result.ok ? 'accepted' : result.reason).toMatch(new RegExp(`^${field}: must appear only once`));
    }
    // Any other key repeated is kept twice (the collision rule).
    expect(parseSourceLine(kind, `${start},"other":1,"other":2}`).ok).toBe(true);
  });
});

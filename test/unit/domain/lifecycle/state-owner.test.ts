import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * "State has one owner": the lint rule in eslint.config.mjs refuses a status written anywhere but
 * shared/domain/lifecycle/write.ts. Planted writes, linted as if they were part of a domain module, must be refused;
 * the same text inside the lifecycle folder is allowed.
 */
const ROOT = path.resolve(__dirname, '../../../..');
const PLANTED = `
import type { StateTransaction } from '../../ports/state-store.port';
export function planted(tx: StateTransaction, status: 'blocked'): void {
  tx.update('runs/r', { status: 'succeeded' });
  tx.set('runs/r', { status });
  tx.update('exports/e', { health: { state: 'healthy' } });
  const outcome = { state: 'stopped' };
  void outcome;
}
`;

interface LintResult {
  messages: { ruleId: string | null; line: number }[];
}

/** The real ESLint CLI with the repository's config (its config is an ES module, which jest cannot import). */
function ruleMessages(file: string): number[] {
  const eslint = path.join(ROOT, 'node_modules/eslint/bin/eslint.js');
  const run = spawnSync(process.execPath, [eslint, '--format', 'json', '--stdin', '--stdin-filename', file], {
    cwd: ROOT,
    input: PLANTED,
    encoding: 'utf8',
  });
  const [result] = JSON.parse(run.stdout) as LintResult[];
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.line);
}

describe('the lint rule that keeps status writes in shared/domain/lifecycle', () => {
  it('refuses a status literal or a status field written outside the lifecycle module', () => {
    const lines = ruleMessages('shared/domain/export/run-state.ts');
    expect([...new Set(lines)].sort()).toEqual([4, 5, 6, 7]);
  }, 60_000);

  it('allows the same writes inside the lifecycle module', () => {
    expect(ruleMessages('shared/domain/lifecycle/write.ts')).toEqual([]);
  }, 60_000);
});

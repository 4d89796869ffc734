import { SettableClock } from '../../../../shared/adapters/clocks';
import { LocalPrincipals } from '../../../../shared/adapters/local/local-principals';
import { MemoryStateStore } from '../../../../shared/adapters/local/memory-state-store';
import {
  PRINCIPAL_ID,
  accountPrincipalPath,
  ensureAccountPrincipal,
  grantCommands,
  principalIdOf,
  principalProjectOf,
} from '../../../../shared/domain/destinations/account-principals';

describe('account principals', () => {
  it('derives a valid, deterministic, distinct service account id per account', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i += 1) {
      const id = principalIdOf(`acct-${i}`);
      expect(id).toMatch(PRINCIPAL_ID);
      expect(id).toHaveLength(30);
      ids.add(id);
    }
    expect(ids.size).toBe(20_000);
    expect(principalIdOf('acct-1')).toBe(principalIdOf('acct-1'));
    // Account ids that differ only in case or punctuation still get their own principal.
    expect(principalIdOf('Acct-1')).not.toBe(principalIdOf('acct-1'));
    expect(principalIdOf('a'.repeat(128))).toMatch(PRINCIPAL_ID);
  });

  it('spreads new accounts over the pool of principals projects by hash', () => {
    const pool = ['principals-a', 'principals-b', 'principals-c', 'principals-d'];
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i += 1) {
      const project = principalProjectOf(`acct-${i}`, pool);
      counts.set(project, (counts.get(project) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(pool);
    for (const count of counts.values()) expect(count).toBeGreaterThan(800);
    expect(() => principalProjectOf('acct', [])).toThrow(/PRINCIPALS_PROJECTS/);
  });

  it('creates the principal once, records it, and keeps it when the pool changes', async () => {
    const clock = new SettableClock('2026-03-01T00:00:00Z');
    const state = new MemoryStateStore();
    const directory = new LocalPrincipals(clock);
    const deps = { state, clock, directory, projects: ['principals-a'] };
    const [first, again] = await Promise.all([
      ensureAccountPrincipal(deps, 'acct-1'),
      ensureAccountPrincipal(deps, 'acct-1'),
    ]);
    expect(first).toBe(`${principalIdOf('acct-1')}@principals-a.iam.gserviceaccount.com`);
    expect(again).toBe(first);
    expect(await state.get(accountPrincipalPath('acct-1'))).toMatchObject({
      accountId: 'acct-1',
      principal: first,
    });
    // A larger pool later: the account keeps its principal (the mapping is stored, not recomputed).
    expect(
      await ensureAccountPrincipal({ ...deps, projects: ['principals-b', 'principals-c'] }, 'acct-1'),
    ).toBe(first);
    expect(directory.created).toEqual([first]);
    await expect(directory.mintToken(first)).resolves.toMatchObject({ token: expect.any(String) as unknown });
    await expect(directory.mintToken('someone@principals-a.iam.gserviceaccount.com')).rejects.toThrow();
  });

  it('refuses without a principals project, and reports a failed creation as transient, recording nothing', async () => {
    const clock = new SettableClock('2026-03-01T00:00:00Z');
    const state = new MemoryStateStore();
    const directory = new LocalPrincipals(clock);
    await expect(
      ensureAccountPrincipal({ state, clock, directory, projects: [] }, 'acct-1'),
    ).rejects.toMatchObject({ code: 'grantsNotEnabled', kind: 'input' });
    const failing = {
      ensure: () => Promise.reject(new Error('quota exceeded')),
      mintToken: (email: string) => directory.mintToken(email),
    };
    await expect(
      ensureAccountPrincipal({ state, clock, directory: failing, projects: ['principals-a'] }, 'acct-1'),
    ).rejects.toMatchObject({ code: 'principalUnavailable', kind: 'transient' });
    expect(await state.get(accountPrincipalPath('acct-1'))).toBeUndefined();
  });

  it('writes one gcloud command per role', () => {
    expect(grantCommands('my-bucket', 'gx@p.iam.gserviceaccount.com')).toEqual([
      'gcloud storage buckets add-iam-policy-binding gs://my-bucket --member=serviceAccount:gx@p.iam.gserviceaccount.com --role=roles/storage.objectCreator',
      'gcloud storage buckets add-iam-policy-binding gs://my-bucket --member=serviceAccount:gx@p.iam.gserviceaccount.com --role=roles/storage.objectViewer',
    ]);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, lastJson } from '../../support/cli';
import { tempDir } from '../../support/temp-dir';

const HOUR = 3_600_000;

interface DemoSummary {
  exportId: string;
  exportStatus: string;
  runStatus: string;
  notices: {
    kind: 'notice' | 'recovery';
    number: number;
    at: string;
    hour: number;
    to: string;
    subject: string;
  }[];
  outbox: string;
}

/** The three-day escalation as the CLI shows it: one data folder, demos and checks in turn. */
describe('gcs-export demo --failure and check-failures', () => {
  const dir = tempDir('failure-demo');
  const data = path.join(dir.path, 'data');
  afterAll(() => dir.remove());

  it('demo --failure: the bucket disappears midway, notices 1, 2 and 3 go out at hours 0, 48 and 72, the export stops', async () => {
    const { stdout, code } = await cli('demo', '--failure', '--data', data, '--json');
    expect(code).toBe(0);
    const summary = lastJson(stdout) as unknown as DemoSummary;
    expect(summary).toMatchObject({ exportStatus: 'stopped', runStatus: 'blocked' });
    expect(summary.notices.map((n) => [n.number, n.hour, n.to])).toEqual([
      [1, 0, 'demo.owner@example.com'],
      [2, 48, 'demo.owner@example.com'],
      [3, 72, 'demo.owner@example.com'],
    ]);
    expect(summary.notices[2]?.subject).toBe(`Your data export "${summary.exportId}" has stopped`);
    // The human timeline comes first; the outbox holds the mails as .eml files a mail client opens.
    expect(stdout).toMatch(/hour {2}72 .* check: export stopped/);
    const emls = readdirSync(summary.outbox).filter(
      (f) => f.endsWith('.eml') && f.includes(summary.exportId),
    );
    expect(emls).toHaveLength(3);
    const third = readFileSync(path.join(summary.outbox, emls.sort()[2] ?? ''), 'utf8');
    expect(third).toContain('To: "Demo Owner" <demo.owner@example.com>');
    expect(third).toContain('Not delivered:');
    expect(third).toContain('404 — The bucket demo-failing-bucket was not found.');
  });

  it('demo --failure --fix-at-hour 30: the export resumes and completes, and only the recovery notice follows the fix', async () => {
    // As a person runs it: no LOG_LEVEL from the test environment.
    const level = process.env.LOG_LEVEL;
    delete process.env.LOG_LEVEL;
    const run = cli('demo', '--failure', '--fix-at-hour', '30', '--data', data, '--json');
    const { stdout, stderr, code } = await run.finally(() => (process.env.LOG_LEVEL = level));
    expect(code).toBe(0);
    // Without --verbose the expected warnings of a failing export stay out of the terminal (its summary has them).
    expect(stderr.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
    const summary = lastJson(stdout) as unknown as DemoSummary;
    expect(summary).toMatchObject({ exportStatus: 'active', runStatus: 'succeeded' });
    expect(summary.notices.map((n) => [n.kind, n.number, n.hour])).toEqual([
      ['notice', 1, 0],
      ['recovery', 1, 31],
    ]);
    expect(stdout).toMatch(/hour {2}30 .* check: destination works again, export resumed/);
  });

  it('demo --failure --fix-at-hour 50: notices 1 and 2, then the recovery notice saying what was delivered', async () => {
    const { stdout, code } = await cli('demo', '--failure', '--fix-at-hour', '50', '--data', data, '--json');
    expect(code).toBe(0);
    const summary = lastJson(stdout) as unknown as DemoSummary;
    expect(summary).toMatchObject({ exportStatus: 'active', runStatus: 'succeeded' });
    expect(summary.notices.map((n) => [n.kind, n.number, n.hour, n.to])).toEqual([
      ['notice', 1, 0, 'demo.owner@example.com'],
      ['notice', 2, 48, 'demo.owner@example.com'],
      ['recovery', 2, 51, 'demo.owner@example.com'],
    ]);
    expect(summary.notices[2]?.subject).toBe(`Your data export "${summary.exportId}" works again`);
    expect(stdout).toMatch(
      /hour {2}51 .* check: recovery notice sent to demo.owner@example.com: ".* works again"/,
    );
    const eml = readdirSync(summary.outbox).find(
      (f) => f.endsWith('.eml') && f.includes(summary.exportId) && f.includes('recovery'),
    );
    const mail = readFileSync(path.join(summary.outbox, eml ?? ''), 'utf8');
    expect(mail).toContain('404 — The bucket demo-failing-bucket was not found.');
    expect(mail).toMatch(/1 interrupted export continues where it stopped \(\d+ parts? of the data/);
  });

  it('check-failures --now walks a failing export through its notices one check at a time', async () => {
    const first = lastJson(
      (await cli('demo', '--failure', '--hours', '1', '--data', data, '--json')).stdout,
    ) as unknown as DemoSummary;
    expect(first.notices.map((n) => n.number)).toEqual([1]);
    const start = Date.parse(first.notices[0]?.at ?? '');
    const check = async (hour: number) => {
      const { stdout, code } = await cli(
        'check-failures',
        '--now',
        new Date(start + hour * HOUR).toISOString(),
        '--data',
        data,
        '--json',
      );
      expect(code).toBe(0);
      return { stdout, outcome: lastJson(stdout) };
    };
    expect((await check(47)).outcome).toMatchObject({ checked: 1, notices: [], stopped: [] });
    const at48 = await check(48);
    expect(at48.outcome).toMatchObject({ notices: [{ notice: 2, exportId: first.exportId }] });
    expect(at48.stdout).toContain(`notice 2       ${first.exportId} → demo.owner@example.com`);
    expect((await check(48)).outcome).toMatchObject({ notices: [] }); // fired twice: nothing twice
    expect((await check(72)).outcome).toMatchObject({ notices: [{ notice: 3 }], stopped: [first.exportId] });
    expect((await check(73)).outcome).toMatchObject({ checked: 0 });
  });

  it('refuses --fix-at-hour without --failure, and a --now that is not a time', async () => {
    expect((await cli('demo', '--fix-at-hour', '3', '--data', data)).code).toBe(2);
    const late = await cli('demo', '--failure', '--fix-at-hour', '5', '--hours', '2', '--data', data);
    expect(late.code).toBe(2);
    expect(late.stderr).toContain('--fix-at-hour 5 is after the last simulated hour (--hours 2)');
    const bad = await cli('check-failures', '--now', 'tomorrow', '--data', data);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('must be an ISO-8601 date-time');
  });
});

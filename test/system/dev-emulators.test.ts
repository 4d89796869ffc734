import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeWithEmulators } from '../support/emulators';
import { REPO_ROOT } from '../support/functions-host';
import { freshProjectId } from '../support/project-id';

describeWithEmulators('npm run dev:emulators', () => {
  it('brings the local cloud up, and the example request published to it becomes a succeeded run', async () => {
    const run = promisify(execFile);
    await run(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.dev.json'], {
      cwd: REPO_ROOT,
    });
    // The emulators of this test run are reused (their hosts are in the environment), under a project of its own.
    const { stdout, stderr } = await run(
      process.execPath,
      [
        'dist-dev/test/support/emulators/dev.js',
        '--smoke',
        '--project',
        freshProjectId('dev'),
        '--port-storage',
        '0',
      ],
      { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 150_000 },
    );
    const output = `${stdout}\n${stderr}`;
    expect(output).toMatch(/emulator firestore: reused/);
    expect(output).toContain('smoke: OK');
    expect(output).toMatch(/records +3,544 in \d+ files/);
    expect(output).toContain('_SUCCESS     present');
  });
});

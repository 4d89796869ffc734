import type { Command } from 'commander';
import { buildProgram } from '../../shared/cli/program';
import { reportFailure } from '../../shared/cli/main';

/** Runs the CLI in-process and returns what it printed and the exit code it set. */
export async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  const out = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  process.exitCode = 0;
  let code = 0;
  try {
    const program = buildProgram();
    // Every command, not only the root: a subcommand's argument error would otherwise exit the test process.
    const all = (command: Command): Command[] => [command, ...command.commands.flatMap(all)];
    for (const command of all(program)) command.exitOverride();
    await program.parseAsync(['node', 'gcs-export', ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (error) {
    code = reportFailure(error);
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = 0;
  }
  return { stdout, stderr, code };
}

export const lastJson = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

import type { Command } from 'commander';
import { buildProgram } from '../../shared/cli/program';
import { reportFailure } from '../../shared/cli/main';

/** Commander exits the process on a usage error unless told otherwise, command by command. */
function throwingInsteadOfExiting(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) throwingInsteadOfExiting(sub);
  return command;
}

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
    await throwingInsteadOfExiting(buildProgram()).parseAsync(['node', 'gcs-export', ...args]);
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

/** `--json` prints its summary as the last line. */
export const lastJson = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

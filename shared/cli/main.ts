#!/usr/bin/env node
import { ConfigError } from '../config';
import { ExportError } from '../domain/errors';
import { buildProgram } from './program';
import { UsageError } from './usage-error';

/** Known failures print one line; anything else is a bug and prints its stack. */
export function reportFailure(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`gcs-export: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ExportError && error.code !== 'unexpected') {
    // The message of an error with violations is those violations joined: print each once, one per line.
    const violations = Array.isArray(error.details.violations) ? error.details.violations.map(String) : [];
    const text = violations.length > 1 ? `\n  ${violations.join('\n  ')}` : ` ${error.message}`;
    process.stderr.write(`gcs-export: ${error.code}:${text}\n`);
    return 1;
  }
  process.stderr.write(
    `gcs-export: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.exitCode = reportFailure(error);
    });
}

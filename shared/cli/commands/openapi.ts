import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openApiDocument } from '../../api/openapi';

/** The OpenAPI document as checked in (docs/openapi.json): two-space JSON and a final newline. */
export const openApiText = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

export function registerOpenApi(program: Command): void {
  program
    .command('openapi')
    .description('print the management API OpenAPI 3.1 document (or write it with --out)')
    .option('--out <file>', 'write it to this file, e.g. docs/openapi.json')
    .action(async (options: { out?: string }) => {
      if (options.out) await writeFile(options.out, openApiText());
      else process.stdout.write(openApiText());
    });
}

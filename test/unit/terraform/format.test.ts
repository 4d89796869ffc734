import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { format } from '@cdktf/hcl-tools';
import { MODULE_DIR } from './module';

/**
 * `terraform fmt` style without terraform: hclwrite.Format (what `terraform fmt` runs, here compiled to WebAssembly
 * by @cdktf/hcl-tools) must leave every file unchanged. `terraform fmt` also rewrites two legacy forms that
 * hclwrite leaves alone, checked separately: interpolation-only strings ("${x}") and quoted type names.
 */

function hclFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name.startsWith('.') ? [] : hclFiles(file);
    return /\.(tf|tfvars|tfvars\.example)$/.test(name) ? [file] : [];
  });
}

async function styleProblems(source: string): Promise<string[]> {
  const problems: string[] = [];
  if ((await format(source)) !== source) problems.push('not as hclwrite.Format writes it');
  let inVariable = false;
  for (const [i, line] of source.split('\n').entries()) {
    if (/^variable "/.test(line)) inVariable = true;
    else if (/^}/.test(line)) inVariable = false;
    if (/=\s*"\$\{[^}"]*\}"\s*(#.*)?$/.test(line)) problems.push(`line ${i + 1}: interpolation-only string`);
    if (inVariable && /^ {2}type\s*=\s*"/.test(line)) problems.push(`line ${i + 1}: quoted type`);
  }
  return problems;
}

const files = hclFiles(MODULE_DIR);

describe('terraform fmt style', () => {
  it('finds the module, its examples and their variables files', () => {
    const names = files.map((f) => path.relative(MODULE_DIR, f));
    expect(names).toEqual(
      expect.arrayContaining([
        'main.tf',
        'examples/basic/main.tf',
        'examples/basic/deployment.tfvars',
        'examples/pipeline/main.tf',
      ]),
    );
  });

  it.each(files.map((f) => [path.relative(MODULE_DIR, f), f]))('%s', async (_name, file) => {
    expect(await styleProblems(readFileSync(file, 'utf8'))).toEqual([]);
  });

  it.each([
    [
      'misaligned equals signs',
      (s: string) => s.replace(/project_id\s+= var\.project_id/, 'project_id = var.project_id'),
    ],
    ['a tab indent', (s: string) => s.replace('\n  source = "../.."', '\n\tsource = "../.."')],
    [
      'an interpolation-only string',
      (s: string) => s.replace(/region(\s+)= var\.region/, 'region$1= "$${var.region}"'),
    ],
    ['a quoted variable type', (s: string) => `${s}\nvariable "x" {\n  type = "string"\n}\n`],
  ])('fails on %s', async (_what, mutate) => {
    const source = readFileSync(path.join(MODULE_DIR, 'examples/basic/main.tf'), 'utf8');
    const mutated = mutate(source);
    expect(mutated).not.toBe(source);
    expect((await styleProblems(mutated)).length).toBeGreaterThan(0);
  });
});

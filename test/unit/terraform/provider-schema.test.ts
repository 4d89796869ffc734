import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BlockSchema, Provider, ProviderSchema } from '../../support/provider-schema';
import { PROVIDERS, extractPath, moduleResourceTypes } from '../../support/provider-schema';
import type { Block, TerraformModule } from './module';
import { MODULE_DIR, instances, isObject, loadModule, parseModule, str, tfFiles } from './module';

/**
 * The module checked against the Google provider's own schema, as extracted from its Go source at the version
 * versions.tf pins (test/support/provider-schema.ts; docs/DEVELOPMENT.md says how to refresh the extract). What
 * `terraform validate` would say without a network: every argument and block known to the provider, none that
 * only the provider sets, every required one present, blocks written as blocks, and literal enum values (also
 * those that reach a resource from a local table through for_each) among the values the provider accepts.
 */

const schemas = Object.fromEntries(
  PROVIDERS.map((p) => [p, JSON.parse(readFileSync(extractPath(p), 'utf8')) as ProviderSchema]),
) as Record<Provider, ProviderSchema>;
/** The module and the roots that use it: all are checked. */
const EXAMPLE_DIRS = ['basic', 'pipeline'].map((name) => path.join(MODULE_DIR, 'examples', name));

/** Terraform's own arguments and blocks, valid in every resource. */
const META = new Set([
  'count',
  'for_each',
  'depends_on',
  'lifecycle',
  'provider',
  'provisioner',
  'connection',
]);

const isExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('${');

function checkBlock(body: Block, block: BlockSchema, at: string, top: boolean, out: string[]): void {
  const dynamic = isObject(body.dynamic) ? body.dynamic : {};
  for (const [key, value] of Object.entries(body)) {
    if (top && META.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, generators] of Object.entries(dynamic)) {
        const nested = block.blocks[name];
        if (!nested) {
          out.push(`${at}: dynamic "${name}": the provider has no block ${name}`);
          continue;
        }
        for (const generator of Array.isArray(generators) ? generators : [])
          for (const content of (isObject(generator) && Array.isArray(generator.content)
            ? generator.content
            : []) as Block[])
            checkBlock(content, nested, `${at}.${name}`, false, out);
      }
      continue;
    }
    const attribute = block.attributes[key];
    const nested = block.blocks[key];
    if (attribute) {
      if (attribute.computed) out.push(`${at}.${key}: set by the provider only, not an argument`);
      if (
        attribute.enum &&
        typeof value === 'string' &&
        !isExpression(value) &&
        !attribute.enum.includes(value)
      )
        out.push(`${at}.${key}: "${value}" is not one of ${attribute.enum.filter(Boolean).join(', ')}`);
    } else if (nested) {
      if (!Array.isArray(value)) {
        out.push(`${at}.${key}: a block written as an argument (\`${key} = …\`); write \`${key} { … }\``);
        continue;
      }
      if (nested.computed) out.push(`${at}.${key}: set by the provider only, not a block`);
      if (nested.maxItems !== undefined && value.length > nested.maxItems)
        out.push(`${at}.${key}: ${value.length} blocks, at most ${nested.maxItems}`);
      for (const element of value)
        if (isObject(element)) checkBlock(element, nested, `${at}.${key}`, false, out);
    } else if (key === 'timeouts' && top && block.timeouts) continue;
    else out.push(`${at}.${key}: the provider has no argument or block ${key} here`);
  }
  for (const [key, attribute] of Object.entries(block.attributes))
    if (attribute.required && !(key in body)) out.push(`${at}: the required argument ${key} is missing`);
  for (const [key, nested] of Object.entries(block.blocks))
    if (nested.required && !(key in body) && !(key in dynamic))
      out.push(`${at}: the required block ${key} is missing`);
}

/** Every problem the provider would report on the module's resources. */
function schemaProblems(module: TerraformModule): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(module.resource)) {
    for (const [name, body] of Object.entries(byName)) {
      if (!type.startsWith('google_')) continue;
      const provider: Provider = body.provider === '${google-beta}' ? 'google-beta' : 'google';
      const resource = schemas[provider].resources[type];
      if (!resource) {
        out.push(`${type}.${name}: not in the ${provider} extract (run npm run terraform:schema)`);
        continue;
      }
      // A resource whose for_each is a local table is checked once per instance, with each.value substituted.
      const table = /^\$\{local\.(\w+)\}$/.exec(str(body.for_each))?.[1];
      const bodies =
        table && isObject(module.locals[table])
          ? instances(module, type, name).map((i) => ({ key: `["${i.key}"]`, body: i.body }))
          : [{ key: '', body }];
      for (const instance of bodies)
        checkBlock(instance.body, resource, `${type}.${name}${instance.key}`, true, out);
    }
  }
  return out;
}

const moduleFiles = () =>
  tfFiles(MODULE_DIR).map((file) => ({ name: path.basename(file), text: readFileSync(file, 'utf8') }));

/** The module with one planted mistake: `find` replaced by `replace` in `file` (which must contain it once). */
async function planted(file: string, find: string, replace: string): Promise<TerraformModule> {
  const files = moduleFiles();
  const target = files.find((f) => f.name === file);
  if (!target || target.text.split(find).length !== 2)
    throw new Error(`${file} does not contain ${find} once`);
  target.text = target.text.replace(find, replace);
  return parseModule(files);
}

describe('the module against the Google provider schema', () => {
  it.each(PROVIDERS)(
    'has the %s schema extracted at the version versions.tf pins, for every resource type the module uses',
    (provider) => {
      const versions = readFileSync(path.join(MODULE_DIR, 'versions.tf'), 'utf8');
      const lower = new RegExp(`\\n\\s*${provider}\\s*=\\s*\\{[^}]*version\\s*=\\s*">=\\s*([\\d.]+)`).exec(
        versions,
      )?.[1];
      expect(schemas[provider].version).toBe(`v${lower}`.replace(/^v(\d+\.\d+)$/, 'v$1.0'));
      expect(Object.keys(schemas[provider].resources).sort()).toEqual(
        moduleResourceTypes([MODULE_DIR, ...EXAMPLE_DIRS])[provider],
      );
    },
  );

  it('finds nothing the provider would refuse in the module', async () => {
    expect(schemaProblems(await parseModule(moduleFiles()))).toEqual([]);
    for (const dir of EXAMPLE_DIRS) expect(schemaProblems(await loadModule(dir))).toEqual([]);
  });

  // Each planted mistake: [what, file, text found once, its replacement, a problem the check must report].
  const mistakes: [string, string, string, string, string][] = [
    [
      'an unknown argument',
      'pubsub.tf',
      'resource "google_pubsub_topic" "this" {',
      'resource "google_pubsub_topic" "this" {\n  retention_days = 7',
      '.retention_days: the provider has no argument or block retention_days here',
    ],
    [
      'a wrong enum value',
      'functions.tf',
      'direct_vpc_egress = "VPC_EGRESS_ALL_TRAFFIC"',
      'direct_vpc_egress = "ALL_TRAFFIC"',
      'service_config.direct_vpc_egress: "ALL_TRAFFIC" is not one of',
    ],
    [
      'a wrong enum value reaching a resource from a local table',
      'main.tf',
      'ingress     = "ALLOW_INTERNAL_ONLY"\n      secrets     = []',
      'ingress     = "INTERNAL_ONLY"\n      secrets     = []',
      '["deadLetter"].service_config.ingress_settings: "INTERNAL_ONLY" is not one of',
    ],
    [
      'a block written as an argument',
      'functions.tf',
      'direct_vpc_network_interface {',
      'direct_vpc_network_interface = {',
      'service_config.direct_vpc_network_interface: a block written as an argument',
    ],
    [
      'a missing required argument',
      'scheduler.tf',
      '    uri ',
      '    # uri ',
      'http_target: the required argument uri is missing',
    ],
    [
      'an argument only the provider sets',
      'pubsub.tf',
      'resource "google_pubsub_topic" "this" {',
      'resource "google_pubsub_topic" "this" {\n  effective_labels = {}',
      '.effective_labels: set by the provider only',
    ],
  ];
  it.each(mistakes)('fails on %s', async (_what, file, find, replace, problem) => {
    expect(schemaProblems(await planted(file, find, replace))).toEqual(
      expect.arrayContaining([expect.stringContaining(problem)]),
    );
  });
});

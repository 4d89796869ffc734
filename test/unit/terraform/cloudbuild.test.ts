import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO } from './module';

/** cloudbuild.yaml read as Cloud Build reads it, and checked for what the pipeline must guarantee. */

interface Step {
  id?: string;
  name?: string;
  entrypoint?: string;
  args?: string[];
  env?: string[];
  waitFor?: string[];
}
interface Build {
  steps: Step[];
  substitutions?: Record<string, string>;
}

/** An image reference pinned to a full version (X.Y.Z) or a digest, never a moving tag. */
const pinned = (image: string): boolean =>
  /@sha256:[0-9a-f]{64}$/.test(image) || /:\d+\.\d+\.\d+(-[\w.-]+)?$/.test(image);

const STEP_IDS = [
  'npm-ci',
  'lint',
  'typecheck',
  'test',
  'build-bundle',
  'terraform-fmt',
  'terraform-init',
  'terraform-validate',
  'terraform-plan',
  'terraform-apply',
];

const text = (step: Step | undefined) => [step?.entrypoint, ...(step?.args ?? [])].join(' ');

function problems(build: Build): string[] {
  const found: string[] = [];
  const ids = build.steps.map((s) => s.id);
  if (ids.join() !== STEP_IDS.join()) found.push(`steps are ${ids.join(', ')}`);
  const step = (id: string) => build.steps.find((s) => s.id === id);

  const test = step('test');
  if (!test?.env?.includes('GCS_EXPORT_TEST_REQUIRE_EMULATORS=1'))
    found.push('the test step may skip the emulator suites');
  for (const need of ['google-cloud-cli-firestore-emulator', 'google-cloud-cli-pubsub-emulator', 'jre'])
    if (!text(test).includes(need)) found.push(`the test step does not install ${need}`);
  if (!/\bjest\b/.test(text(test)) || /jest\s+test\/unit/.test(text(test)))
    found.push('the test step does not run every suite');

  const plan = text(step('terraform-plan'));
  const saved = /-out=(\S+)/.exec(plan)?.[1];
  if (!saved) found.push('the plan is not saved');
  const apply = text(step('terraform-apply'));
  if (!saved || !new RegExp(`terraform apply [^\\n]*\\b${saved}\\s*$`, 'm').test(apply))
    found.push('apply does not apply the saved plan');
  if (!/if \[ "\$BRANCH_NAME" != "main" \]; then[\s\S]*exit 0[\s\S]*fi[\s\S]*terraform apply/.test(apply))
    found.push('apply is not limited to the main branch');
  if (!text(step('terraform-fmt')).includes('fmt -check')) found.push('terraform fmt is not checked');
  if (!text(step('terraform-validate')).includes('validate')) found.push('terraform validate does not run');

  // Images: every one pinned (substitutions resolved).
  const resolve = (name: string | undefined) =>
    (name ?? '').replace(/\$\{(\w+)\}/g, (_all, key: string) => build.substitutions?.[key] ?? '');
  for (const s of build.steps)
    if (!pinned(resolve(s.name))) found.push(`step ${s.id ?? '?'} runs an unpinned image ${resolve(s.name)}`);
  // The current Firestore emulator needs Java 21 or later.
  const java = /openjdk-(\d+)-jre/.exec(text(test))?.[1];
  if (!java || Number(java) < 21)
    found.push(`the test step installs Java ${java ?? '(none)'}, not 21 or later`);
  if (/bookworm|bullseye/.test(resolve(test?.name)) && java && Number(java) >= 21)
    found.push('the test step installs a Java its Debian release does not have');
  // The plan never prompts: its variables come from a committed file.
  if (!/-input=false/.test(plan) || !/-var-file=\S+/.test(plan))
    found.push('the plan may prompt for variables');

  const all = JSON.stringify(build);
  if (/GOOGLE_APPLICATION_CREDENTIALS|\.json['" ]|private_key|--key-file/.test(all))
    found.push('a key file is used');
  for (const id of ['terraform-init', 'terraform-plan', 'terraform-apply'])
    if (!step(id)?.env?.some((e) => e.startsWith('GOOGLE_IMPERSONATE_SERVICE_ACCOUNT=')))
      found.push(`${id} does not impersonate the deployer`);
  return found;
}

const build = parse(readFileSync(path.join(REPO, 'cloudbuild.yaml'), 'utf8')) as Build;

describe('cloudbuild.yaml', () => {
  it('has the named steps, runs every suite with the emulators, and applies the saved plan on main only, keyless', () => {
    expect(problems(build)).toEqual([]);
  });

  const mutations: [string, (b: Build) => void][] = [
    [
      'an image is a moving tag',
      (b) => (b.substitutions = { ...b.substitutions, _TERRAFORM_IMAGE: 'hashicorp/terraform:1.12' }),
    ],
    [
      'the test step installs Java 17',
      (b) => {
        const test = b.steps[3] ?? {};
        b.steps[3] = { ...test, args: (test.args ?? []).map((a) => a.replace('openjdk-21', 'openjdk-17')) };
      },
    ],
    [
      'the plan reads no variables file',
      (b) => {
        const plan = b.steps[8] ?? {};
        b.steps[8] = { ...plan, args: (plan.args ?? []).filter((a) => !a.startsWith('-var-file')) };
      },
    ],
    ['a step is renamed', (b) => (b.steps[1] = { ...b.steps[1], id: 'eslint' })],
    [
      'the emulator suites may be skipped',
      (b) => (b.steps[3] = { ...b.steps[3], env: ['METADATA_SERVER_DETECTION=none'] }),
    ],
    [
      'only unit tests run',
      (b) =>
        (b.steps[3] = {
          ...b.steps[3],
          args: [
            '-c',
            'apt-get install google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator openjdk-17-jre-headless && npx jest test/unit',
          ],
        }),
    ],
    [
      'apply re-plans instead of applying the saved plan',
      (b) =>
        (b.steps[9] = {
          ...b.steps[9],
          args: ['-c', 'if [ "$BRANCH_NAME" != "main" ]; then exit 0; fi\nterraform apply -auto-approve'],
        }),
    ],
    [
      'apply runs on every branch',
      (b) => (b.steps[9] = { ...b.steps[9], args: ['-c', 'terraform apply -input=false tfplan'] }),
    ],
    [
      'a key file is used',
      (b) =>
        (b.steps[8] = { ...b.steps[8], env: ['GOOGLE_APPLICATION_CREDENTIALS=/workspace/deployer.json'] }),
    ],
  ];
  it.each(mutations)('fails when %s', (_what, mutate) => {
    const copy = structuredClone(build);
    mutate(copy);
    expect(problems(copy).length).toBeGreaterThan(0);
  });
});

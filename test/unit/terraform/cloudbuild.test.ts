import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Block, TerraformModule } from './module';
import { MODULE_DIR, REPO, clone, isObject, loadModule, parseTfvars, str } from './module';

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
  if (
    !/if \[ "\$\{_APPLY\}" != "true" \]; then[\s\S]*exit 0[\s\S]*fi[\s\S]*terraform apply/.test(apply) ||
    build.substitutions?._APPLY !== 'false'
  )
    found.push('apply is not off unless the trigger asks for it');
  if (!/-lock=\$\{_TF_LOCK\}/.test(plan))
    found.push('the plan always takes the state lock (the planner cannot)');
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
    if (!step(id)?.env?.includes('GOOGLE_IMPERSONATE_SERVICE_ACCOUNT=${_TF_SA}'))
      found.push(`${id} does not impersonate the trigger's Terraform account`);
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
          args: ['-c', 'if [ "${_APPLY}" != "true" ]; then exit 0; fi\nterraform apply -auto-approve'],
        }),
    ],
    [
      'apply runs on every branch',
      (b) => (b.steps[9] = { ...b.steps[9], args: ['-c', 'terraform apply -input=false tfplan'] }),
    ],
    ['apply is on by default', (b) => (b.substitutions = { ...b.substitutions, _APPLY: 'true' })],
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

/**
 * The two triggers of terraform/examples/pipeline: branches plan as the read-only planner and can do nothing else,
 * main applies as the deployer after an approval. The boundary is IAM: each build account may impersonate exactly
 * one Terraform identity, and holds no role beyond writing its logs.
 */
const READ_ONLY = ['roles/viewer', 'roles/iam.securityReviewer', 'roles/storage.objectViewer'];

function pipelineProblems(m: TerraformModule): string[] {
  const found: string[] = [];
  const triggers = m.resource.google_cloudbuild_trigger ?? {};
  const push = (t: Block) =>
    (((t.repository_event_config as Block[] | undefined)?.[0]?.push as Block[] | undefined) ?? [])[0] ?? {};
  const subs = (t: Block) => (isObject(t.substitutions) ? t.substitutions : {});
  const builds = isObject(m.locals.build) ? (m.locals.build as Record<string, Block>) : {};
  /** What a trigger's build account may impersonate, through local.build. */
  const impersonates = (t: Block) => {
    const key = /google_service_account\.build\["(\w+)"\]/.exec(str(t.service_account))?.[1] ?? '';
    return str(builds[key]?.impersonates);
  };
  if (Object.keys(triggers).length !== 2) found.push(`${Object.keys(triggers).length} triggers, not 2`);
  const branches = Object.values(triggers).find((t) => push(t).invert_regex === true);
  const main = Object.values(triggers).find((t) => push(t).invert_regex !== true);
  if (!branches || push(branches).branch !== '^main$') found.push('no trigger for every branch but main');
  if (!main || push(main).branch !== '^main$') found.push('no trigger for main');
  if (branches) {
    if (subs(branches)._APPLY !== 'false' || subs(branches)._TF_LOCK !== 'false')
      found.push('the branch trigger may apply or lock the state');
    if (str(subs(branches)._TF_SA) !== '${google_service_account.planner.email}')
      found.push('branches do not plan as the planner');
    if (impersonates(branches) !== '${google_service_account.planner.email}')
      found.push("the branch build's account may impersonate more than the planner");
    if ((branches.approval_config as Block[] | undefined)?.[0]?.approval_required === true)
      found.push('branch builds wait for an approval');
  }
  if (main) {
    if ((main.approval_config as Block[] | undefined)?.[0]?.approval_required !== true)
      found.push('main applies without an approval');
    if (subs(main)._APPLY !== 'true') found.push('main never applies');
    if (impersonates(main) !== str(subs(main)._TF_SA))
      found.push("main's build account cannot impersonate its _TF_SA");
  }
  if (
    new Set(Object.values(triggers).map((t) => str(t.service_account))).size !== Object.keys(triggers).length
  )
    found.push('the triggers share a build account');
  // Roles: the build accounts write logs and impersonate; the planner reads.
  for (const [name, grant] of Object.entries(m.resource.google_project_iam_member ?? {})) {
    const role = str(grant.role);
    if (name === 'build_logs' && role !== 'roles/logging.logWriter')
      found.push(`the build accounts hold ${role}`);
    if (name === 'planner') {
      const roles = /^\$\{toset\(\[(.*)\]\)\}$/.exec(str(grant.for_each))?.[1] ?? str(grant.for_each);
      for (const r of [...roles.matchAll(/"([^"]+)"/g)].map((x) => x[1] ?? ''))
        if (!READ_ONLY.includes(r)) found.push(`the planner holds ${r}, which is not read-only`);
    }
    if (name !== 'build_logs' && name !== 'planner') found.push(`unexpected project grant ${name} (${role})`);
  }
  for (const grant of Object.values(m.resource.google_storage_bucket_iam_member ?? {}))
    if (!READ_ONLY.includes(str(grant.role)))
      found.push(`the pipeline grants ${str(grant.role)} on a bucket`);
  return found;
}

/** Variables of the deployment root that the plan would prompt for: required ones the committed file lacks. */
async function missingVariables(root: TerraformModule, varsFile: string): Promise<string[]> {
  const set = await parseTfvars(readFileSync(varsFile, 'utf8'));
  return Object.entries(root.variable)
    .filter(([name, v]) => !('default' in v) && !(name in set))
    .map(([name]) => name);
}

describe('the pipeline', () => {
  let pipeline: TerraformModule;
  let basic: TerraformModule;
  beforeAll(async () => {
    [pipeline, basic] = await Promise.all([
      loadModule(path.join(MODULE_DIR, 'examples/pipeline')),
      loadModule(path.join(MODULE_DIR, 'examples/basic')),
    ]);
  });

  it('has two triggers: branches plan read-only, main applies after approval, each account one identity', () => {
    expect(pipelineProblems(pipeline)).toEqual([]);
  });

  const mutations: [string, (m: TerraformModule) => void][] = [
    ['main needs no approval', (m) => delete m.resource.google_cloudbuild_trigger?.main?.approval_config],
    [
      'the branch build account may impersonate the deployer',
      (m) =>
        ((m.locals.build as Record<string, Block>).branches = {
          impersonates: '${var.deployer_service_account}',
        }),
    ],
    [
      'the planner may write',
      (m) => {
        const grant = m.resource.google_project_iam_member?.planner;
        if (grant) grant.for_each = '${toset(["roles/viewer", "roles/editor"])}';
      },
    ],
    [
      'the build accounts hold the Cloud Build editor role',
      (m) => {
        const grant = m.resource.google_project_iam_member?.build_logs;
        if (grant) grant.role = 'roles/cloudbuild.builds.editor';
      },
    ],
    [
      'branches apply',
      (m) => {
        const t = m.resource.google_cloudbuild_trigger?.branches;
        if (t && isObject(t.substitutions)) t.substitutions._APPLY = 'true';
      },
    ],
  ];
  it.each(mutations)('fails when %s', (_what, mutate) => {
    const copy = clone(pipeline);
    mutate(copy);
    expect(pipelineProblems(copy).length).toBeGreaterThan(0);
  });

  it('plans the deployment root without prompting: the committed variables file sets every required variable', async () => {
    const dir = path.join(REPO, build.substitutions?._TF_DIR ?? '');
    expect(dir).toBe(path.join(MODULE_DIR, 'examples/basic'));
    const file = path.join(dir, build.substitutions?._TF_VARS_FILE ?? '');
    expect(await missingVariables(basic, file)).toEqual([]);
    // And the check sees a gap: a root with one more required variable.
    const wider = clone(basic);
    wider.variable.billing_account = { type: 'string' };
    expect(await missingVariables(wider, file)).toEqual(['billing_account']);
  });
});

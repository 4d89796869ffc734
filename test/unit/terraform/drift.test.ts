import type { CodeFacts } from './code-facts';
import { codeFacts } from './code-facts';
import type { Block, TerraformModule } from './module';
import { clone, loadModule, str, table } from './module';
import { RULES } from './rules';

/**
 * The Terraform module checked against the code, without terraform: parsed by HashiCorp's HCL parser
 * (@cdktf/hcl2json), compared with what the code registers, reads, publishes, logs and queries. Each rule is then
 * shown to fail when one side changes, on a mutated copy.
 */

let tf: TerraformModule;
let code: CodeFacts;

beforeAll(async () => {
  [tf, code] = await Promise.all([loadModule(), codeFacts()]);
});

describe('the Terraform module matches the code', () => {
  it('reads the code it compares with', () => {
    expect(code.registered.map((f) => f.name).sort()).toEqual(
      ['api', 'checkFailures', 'deadLetter', 'planExport', 'writeChunk'].sort(),
    );
    // functions/entry-points.ts declares exactly what functions/index.ts registers, and how.
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...code.entryPoints].sort(byName)).toEqual([...code.registered].sort(byName));
    expect(code.published).toContain('chunks');
    expect(code.topicEnv).toMatchObject({ chunks: 'EXPORT_CHUNKS_TOPIC' });
    expect(code.sourceQueries.map((q) => `${q.collectionGroup}.${q.fields.join('+')}`)).toContain(
      'chunks.status',
    );
  });

  it('alerts on dead letters, messages waiting, failing exports, stuck runs and mail failures', () => {
    expect(Object.keys(table(tf, 'alert_policies')).sort()).toEqual(
      ['dead_letters', 'failing_exports', 'mail_failures', 'messages_waiting', 'stuck_runs'].sort(),
    );
  });

  it.each(Object.keys(RULES))('%s', (rule) => {
    expect(RULES[rule]?.(tf, code)).toEqual([]);
  });

  it('declares a composite index exactly for the queries that filter on several fields', () => {
    expect(code.compositeIndexes.map((i) => i.collectionGroup).sort()).toEqual(['exports', 'runs']);
    expect(Object.keys(table(tf, 'firestore_composite_indexes')).sort()).toEqual([
      'exports_failing',
      'runs_of_export',
    ]);
  });
});

type Mutation = [rule: string, what: string, mutate: (m: TerraformModule, c: CodeFacts) => void];

const local = (m: TerraformModule, name: string) => table(m, name) as Record<string, unknown>;
const resource = (m: TerraformModule, type: string, name: string): Block => {
  const body = m.resource[type]?.[name];
  if (!body) throw new Error(`no ${type}.${name}`);
  return body;
};
const block = (body: Block, key: string): Block => (body[key] as Block[])[0];

const [FUNCTIONS, ENV, TOPICS, PUBLISHERS, SUBNET, METRICS, ALERTS, FIRESTORE, PRIMITIVE, PUBLIC, BOUNDS] =
  Object.keys(RULES) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];

const MUTATIONS: Mutation[] = [
  [
    SUBNET,
    'the default subnet is a /26 (60 addresses for 76 instances)',
    (m) => {
      const network = m.variable.network as { type: string };
      network.type = network.type.replace('10.8.0.0/24', '10.8.0.0/26');
    },
  ],
  [
    SUBNET,
    'the subnet has no precondition',
    (m) => delete (m.resource.google_compute_subnetwork?.functions as Record<string, unknown>).lifecycle,
  ],
  [
    PUBLISHERS,
    "a function's code publishes to a topic it may not",
    (_m, c) => c.publishesByFunction.deadLetter?.push('failure_check'),
  ],
  [
    PUBLISHERS,
    'a function may publish to a topic its code never does',
    (m) => (local(m, 'function_access').deadLetter as { publishes: string[] }).publishes.push('parked'),
  ],
  [FUNCTIONS, 'a registered function is not deployed', (m) => delete local(m, 'functions').deadLetter],
  [
    FUNCTIONS,
    'a function is registered that Terraform does not know',
    (_m, c) => c.registered.push({ name: 'purge', kind: 'http' }),
  ],
  [
    FUNCTIONS,
    'the entry point is hard-coded',
    (m) =>
      (block(resource(m, 'google_cloudfunctions2_function', 'this'), 'build_config').entry_point = 'main'),
  ],
  [FUNCTIONS, 'writeChunk is fed by no subscription', (m) => delete local(m, 'push_subscriptions').chunks],
  [
    FUNCTIONS,
    'a subscription has no dead-letter policy',
    (m) => delete resource(m, 'google_pubsub_subscription', 'push').dead_letter_policy,
  ],
  [
    FUNCTIONS,
    'an event function times out early',
    (m) => ((local(m, 'functions').writeChunk as Record<string, unknown>).timeout = 60),
  ],
  [ENV, 'a required variable is not set', (m) => delete local(m, 'runtime_env').QUARANTINE_BUCKET],
  [ENV, 'an unknown variable is set', (m) => (local(m, 'runtime_env').CHUNK_BYTES = '1')],
  [
    ENV,
    'the config module reads a new variable',
    (_m, c) => (c.env = { ...c.env, EXPORT_REGION: c.env.LOG_LEVEL }),
  ],
  [
    ENV,
    'a function mounts no key-encryption key',
    (m) => ((local(m, 'functions').api as Record<string, unknown>).secrets = []),
  ],
  [
    ENV,
    'a function that never decrypts a key mounts the key-encryption key',
    (m) => ((local(m, 'functions').deadLetter as Record<string, unknown>).secrets = ['GCS_EXPORT_KEK']),
  ],
  [
    TOPICS,
    'the chunks topic variable names a missing topic',
    (m) => (local(m, 'runtime_env').EXPORT_CHUNKS_TOPIC = '${google_pubsub_topic.this["work"].name}'),
  ],
  [TOPICS, 'the chunks topic is gone', (m) => delete local(m, 'topics').chunks],
  [
    METRICS,
    'a metric counts an event the logger cannot write',
    (m) => ((local(m, 'event_metrics').runs_planned as Record<string, unknown>).event = 'runPlaned'),
  ],
  [METRICS, 'an event is counted by no metric', (m) => delete local(m, 'event_metrics').mail_failures],
  [
    ALERTS,
    'an alert watches a metric that does not exist',
    (m) => delete local(m, 'event_metrics').runs_stuck,
  ],
  [
    ALERTS,
    'an alert links a runbook section that does not exist',
    (_m, c) => (c.runbookAnchors = c.runbookAnchors.filter((a) => a !== 'stuck-runs')),
  ],
  [
    ALERTS,
    'the dashboard charts a metric that does not exist',
    (_m, c) => (c.dashboard = { title: 'logging.googleapis.com/user/gcs_export/runs_lost' }),
  ],
  [
    FIRESTORE,
    'the code runs a query that needs a composite index',
    (_m, c) =>
      (c.compositeIndexes = [
        {
          collectionGroup: 'runs',
          fields: [
            { field: 'status', order: 'ASCENDING' },
            { field: 'accountId', order: 'ASCENDING' },
          ],
        },
      ]),
  ],
  [
    FIRESTORE,
    'Terraform declares an index no query needs',
    (m) =>
      (local(m, 'firestore_composite_indexes').runs = {
        collection: 'runs',
        fields: [{ field_path: 'status', order: 'ASCENDING' }],
      }),
  ],
  [
    FIRESTORE,
    'a queried field is exempt from indexing',
    (m) =>
      (m.resource.google_firestore_field = {
        ...m.resource.google_firestore_field,
        chunk_status: { collection: 'chunks', field: 'status', index_config: [{}] },
      }),
  ],
  [
    FIRESTORE,
    'the code queries a collection not declared',
    (_m, c) => c.sourceQueries.push({ collectionGroup: 'destinations', fields: ['bucket'], at: 'mutation' }),
  ],
  [
    FIRESTORE,
    'the TTL covers other collections than the adapter writes',
    (m) => (local(m, 'firestore_ttl').collection_groups = ['runs']),
  ],
  [
    PRIMITIVE,
    'a function gets roles/editor',
    (m) => (resource(m, 'google_project_iam_member', 'firestore').role = 'roles/editor'),
  ],
  [
    PUBLIC,
    'the API is opened to allUsers',
    (m) => (resource(m, 'google_cloud_run_v2_service_iam_member', 'api_invoker').member = 'allUsers'),
  ],
  [PUBLIC, 'api_invokers is no longer validated', (m) => delete m.variable.api_invokers.validation],
  [
    BOUNDS,
    "a validation is looser than shared/config.ts's",
    (m) => {
      const validations = m.variable.export_settings?.validation as Block[];
      for (const v of validations)
        v.condition = str(v.condition).replace('max_delivery_attempts >= 5', 'max_delivery_attempts >= 1');
    },
  ],
  [
    BOUNDS,
    'the log levels differ',
    (m) => {
      const validations = m.variable.export_settings?.validation as Block[];
      for (const v of validations) v.condition = str(v.condition).replace('"info"]', '"info", "warn"]');
    },
  ],
];

describe('each rule fails on a mutated copy', () => {
  it('covers every rule with at least one mutation', () => {
    expect(new Set(MUTATIONS.map(([rule]) => rule))).toEqual(new Set(Object.keys(RULES)));
  });

  it.each(MUTATIONS)('%s — fails when %s', (rule, _what, mutate) => {
    const m = clone(tf);
    const c = structuredClone<CodeFacts>({ ...code, env: {} });
    c.env = { ...code.env };
    mutate(m, c);
    expect(RULES[rule]?.(m, c).length).toBeGreaterThan(0);
    // The untouched originals still pass: the mutation, not a shared object, made the rule fail.
    expect(RULES[rule]?.(tf, code)).toEqual([]);
  });
});

import type { Block, TerraformModule } from './module';
import { clone, loadModule, strings } from './module';

/**
 * The first `terraform apply` in a new project succeeds in one go, without races Terraform cannot see: every
 * resource waits for the APIs it needs, service agents exist before they are granted roles, alert policies wait
 * until their log-based metrics are queryable, and a function's invoker bindings are made again when the function
 * (and the Cloud Run service under it, with its IAM policy) is replaced.
 */

type Rule = (module: TerraformModule) => string[];
const APIS = 'google_project_service.this';

/** Every resource address a body refers to: `google_x.y`, `time_sleep.z` (data sources are not followed). */
const references = (body: Block): string[] =>
  [...strings(body)].flatMap(([, s]) =>
    [...s.matchAll(/(?<![\w.])((?:google|time)_\w+\.\w+)/g)].map((m) => m[1] ?? ''),
  );

const addresses = (module: TerraformModule): [string, Block][] =>
  Object.entries(module.resource).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, body]): [string, Block] => [`${type}.${name}`, body]),
  );

/** Every Google resource is ordered after API enablement, directly (depends_on) or through what it refers to. */
const apisFirst: Rule = (module) => {
  const bodies = new Map(addresses(module));
  const waits = new Map<string, boolean>([[APIS, true]]);
  const visit = (address: string, path: string[]): boolean => {
    const known = waits.get(address);
    if (known !== undefined) return known;
    if (path.includes(address)) return false;
    const body = bodies.get(address);
    const result = body !== undefined && references(body).some((ref) => visit(ref, [...path, address]));
    waits.set(address, result);
    return result;
  };
  return [...bodies.keys()]
    .filter((address) => address.startsWith('google_') && !visit(address, []))
    .map((address) => `${address} may be created before the APIs are enabled (depends_on ${APIS})`);
};

/** A service agent's address written by hand may not exist yet in a new project: it comes from its identity. */
const serviceAgentsCreated: Rule = (module) => {
  const problems: string[] = [];
  const all: [string, unknown][] = [
    ...addresses(module),
    ...Object.entries(module.locals).map(([k, v]): [string, unknown] => [`local.${k}`, v]),
  ];
  for (const [at, body] of all)
    for (const [field, value] of strings(body as Block))
      if (/@gcp-sa-[\w-]+\.iam\.gserviceaccount\.com/.test(value))
        problems.push(`${at}.${field} names a service agent by hand; use google_project_service_identity`);
  return problems;
};

/** Alert policies on log-based metrics wait until the metrics can be queried (a 404 for minutes otherwise). */
const alertsAfterMetrics: Rule = (module) => {
  const problems: string[] = [];
  const metrics = Object.keys(module.resource.google_logging_metric ?? {}).map(
    (n) => `google_logging_metric.${n}`,
  );
  for (const [name, policy] of Object.entries(module.resource.google_monitoring_alert_policy ?? {})) {
    const waits = references({ depends_on: policy.depends_on ?? [] })
      .filter((ref) => ref.startsWith('time_sleep.'))
      .map((ref) => module.resource.time_sleep?.[ref.split('.')[1] ?? '']);
    const covered = waits.some(
      (sleep) =>
        sleep !== undefined &&
        sleep.create_duration !== undefined &&
        metrics.every((metric) =>
          references({ d: sleep.depends_on ?? [], t: sleep.triggers ?? {} }).includes(metric),
        ),
    );
    if (!covered)
      problems.push(`google_monitoring_alert_policy.${name} does not wait for its metrics to propagate`);
  }
  return problems;
};

/** Bindings on a function's service are replaced with the function, whose replacement drops its IAM policy. */
const bindingsReplacedWithFunctions: Rule = (module) =>
  Object.entries(module.resource.google_cloud_run_v2_service_iam_member ?? {})
    .filter(([, body]) => {
      const lifecycle = (body.lifecycle as Block[] | undefined)?.[0];
      return !references({ r: lifecycle?.replace_triggered_by ?? [] }).includes(
        'google_cloudfunctions2_function.this',
      );
    })
    .map(([name]) => `google_cloud_run_v2_service_iam_member.${name} is not replaced with its function`);

const RULES: Record<string, Rule> = {
  'every resource waits for the APIs': apisFirst,
  'service agents are created, not named by hand': serviceAgentsCreated,
  'alert policies wait for their metrics': alertsAfterMetrics,
  'invoker bindings are replaced with their functions': bindingsReplacedWithFunctions,
};

const resource = (m: TerraformModule, type: string, name: string): Block => {
  const body = m.resource[type]?.[name];
  if (!body) throw new Error(`no ${type}.${name}`);
  return body;
};

const MUTATIONS: [string, string, (m: TerraformModule) => void][] = [
  [
    'every resource waits for the APIs',
    'a service account does not wait',
    (m) => delete resource(m, 'google_service_account', 'scheduler').depends_on,
  ],
  [
    'service agents are created, not named by hand',
    "the Pub/Sub agent's address is written by hand",
    (m) =>
      (m.locals.pubsub_service_agent =
        'serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com'),
  ],
  [
    'alert policies wait for their metrics',
    'the alerts do not wait',
    (m) => delete resource(m, 'google_monitoring_alert_policy', 'this').depends_on,
  ],
  [
    'alert policies wait for their metrics',
    'the wait does not follow one of the metrics',
    (m) => {
      const sleep = resource(m, 'time_sleep', 'metrics_propagated');
      sleep.depends_on = ['${google_logging_metric.events}'];
      sleep.triggers = {};
    },
  ],
  [
    'invoker bindings are replaced with their functions',
    'the API invokers are not',
    (m) => delete resource(m, 'google_cloud_run_v2_service_iam_member', 'api_invoker').lifecycle,
  ],
];

let tf: TerraformModule;
beforeAll(async () => {
  tf = await loadModule();
});

describe('the first apply', () => {
  it.each(Object.keys(RULES))('%s', (rule) => {
    expect(RULES[rule]?.(tf)).toEqual([]);
  });

  it.each(MUTATIONS)('%s — fails when %s', (rule, _what, mutate) => {
    const mutated = clone(tf);
    mutate(mutated);
    expect(RULES[rule]?.(mutated).length).toBeGreaterThan(0);
  });
});

import type { CodeFacts } from './code-facts';
import type { Block, TerraformModule } from './module';
import { expr, indexKeys, instances, isObject, str, strings, table, varRefs } from './module';

/** A drift rule: the problems it finds, one readable line each; none means the module matches the code. */
export type Rule = (module: TerraformModule, code: CodeFacts) => string[];

const FUNCTION = 'google_cloudfunctions2_function';
const TOPIC = 'google_pubsub_topic.this';
const EVENT_TIMEOUT = 540;

/** The functions' plain environment (local.runtime_env) and secret environment (local.secret_env). */
function deployedEnv(module: TerraformModule): { plain: Record<string, unknown>; secret: string[] } {
  return {
    plain: table(module, 'runtime_env'),
    secret: Object.keys(table(module, 'secret_env')),
  };
}

const functionsRule: Rule = (module, code) => {
  const problems: string[] = [];
  const deployed = table(module, 'functions');
  const registered = new Map(code.registered.map((f) => [f.name, f.kind]));
  for (const name of registered.keys())
    if (!deployed[name])
      problems.push(`${name} is registered in functions/index.ts but not in local.functions`);
  for (const name of Object.keys(deployed))
    if (!registered.has(name))
      problems.push(`local.functions.${name} is not registered in functions/index.ts`);

  const fn = module.resource[FUNCTION]?.this;
  if (fn?.for_each !== '${local.functions}') problems.push(`${FUNCTION}.this is not one per local.functions`);
  const build = (fn?.build_config as Block[] | undefined)?.[0];
  if (build?.entry_point !== '${each.key}')
    problems.push('the entry point is not the registered name (each.key)');
  if (build?.runtime !== 'nodejs22') problems.push(`runtime is ${str(build?.runtime)}, not nodejs22`);

  const subscriptions = instances(module, 'google_pubsub_subscription', 'push');
  for (const [name, kind] of registered) {
    const entry = deployed[name];
    if (!entry) continue;
    const feeding = subscriptions.filter((s) => s.value.function === name);
    if (kind === 'http') {
      if (entry.topic !== null || feeding.length > 0) problems.push(`${name} is HTTP but is fed by Pub/Sub`);
      continue;
    }
    if (entry.timeout !== EVENT_TIMEOUT)
      problems.push(`${name} times out after ${str(entry.timeout)} s, not 540`);
    const sub = feeding.find((s) => s.key === entry.topic);
    if (!sub) {
      problems.push(`${name} has no push subscription on topic ${str(entry.topic)}`);
      continue;
    }
    const push = (sub.body.push_config as Block[] | undefined)?.[0];
    const oidc = (push?.oidc_token as Block[] | undefined)?.[0];
    if (!indexKeys(push?.push_endpoint, `${FUNCTION}.this`).every((k) => k === name))
      problems.push(`the ${sub.key} subscription does not push to ${name}`);
    if (!str(push?.push_endpoint).includes(`/topics/\${${TOPIC}["${sub.key}"].name}`))
      problems.push(`the ${sub.key} subscription's endpoint does not name its topic (CloudEvent source)`);
    if (indexKeys(oidc?.service_account_email, 'google_service_account.push').join() !== name)
      problems.push(`the ${sub.key} subscription does not sign with ${name}'s push identity`);
    if (!(sub.body.retry_policy as Block[] | undefined)?.[0]?.minimum_backoff)
      problems.push(`the ${sub.key} subscription has no retry backoff`);
    const deadLetter = (sub.body.dead_letter_policy as Block[] | undefined)?.[0];
    if (!deadLetter?.dead_letter_topic || !deadLetter.max_delivery_attempts)
      problems.push(`the ${sub.key} subscription has no dead-letter policy`);
  }
  return problems;
};

const environmentRule: Rule = (module, code) => {
  const problems: string[] = [];
  const { plain, secret } = deployedEnv(module);
  const known = new Set(Object.keys(code.env));
  const unset = Object.keys(table(module, 'env_left_unset'));
  const set = new Set([...Object.keys(plain), ...secret]);
  for (const name of [...set, ...unset])
    if (!known.has(name)) problems.push(`${name} is set by Terraform but shared/config.ts does not read it`);
  for (const name of known)
    if (!set.has(name) && !unset.includes(name))
      problems.push(
        `shared/config.ts reads ${name}: set it in local.runtime_env or say why in local.env_left_unset`,
      );
  const functions = table(module, 'functions');
  for (const [name, fn] of Object.entries(functions)) {
    const mounted = (fn.secrets as string[] | undefined) ?? [];
    for (const s of mounted)
      if (!secret.includes(s)) problems.push(`${name} mounts ${s}, which is no secret`);
    for (const kek of ['GCS_EXPORT_KEK', 'GCS_EXPORT_KEK_PREVIOUS']) {
      const needed = code.usesCustomerKeys.includes(name);
      if (needed && !mounted.includes(kek))
        problems.push(`${name} decrypts customers' keys but lacks ${kek}`);
      if (!needed && mounted.includes(kek))
        problems.push(`${name} mounts ${kek} but never touches a customer's key`);
    }
    for (const required of code.requiredForGcp)
      if (!(required in plain) && !mounted.includes(required))
        problems.push(`${name} lacks ${required}, which shared/config.ts requires`);
  }
  const service = (module.resource[FUNCTION]?.this?.service_config as Block[] | undefined)?.[0];
  if (service?.environment_variables !== '${local.runtime_env}')
    problems.push('the functions do not get local.runtime_env');
  if (plain.GCS_EXPORT_ADAPTERS !== 'gcp') problems.push('GCS_EXPORT_ADAPTERS is not "gcp"');
  return problems;
};

const topicsRule: Rule = (module, code) => {
  const problems: string[] = [];
  const { plain } = deployedEnv(module);
  const topics = Object.keys(table(module, 'topics'));
  for (const key of code.published) {
    const variable = code.topicEnv[key];
    if (!variable) {
      problems.push(`the code publishes to settings.topics.${key}, which no variable sets`);
      continue;
    }
    const target = indexKeys(plain[variable] as string, TOPIC);
    if (target.length !== 1 || !topics.includes(target[0] ?? ''))
      problems.push(`${variable} does not name a topic of the module (${str(plain[variable])})`);
  }
  for (const variable of Object.values(code.topicEnv)) {
    const target = indexKeys(plain[variable] as string, TOPIC);
    if (!target.every((t) => topics.includes(t))) problems.push(`${variable} names a topic the module lacks`);
  }
  return problems;
};

/**
 * IAM from the code: each function may publish on exactly the topics its code publishes to, read the source buckets
 * exactly when its code reads sources, and write the quarantine bucket exactly when its code quarantines
 * (local.function_access, from which iam.tf's grants are made): no fewer (production would refuse the call) and no
 * more.
 */
const publishersRule: Rule = (module, code) => {
  const problems: string[] = [];
  const access = table(module, 'function_access');
  for (const [name, topics] of Object.entries(code.publishesByFunction)) {
    const granted = ((access[name]?.publishes as string[] | undefined) ?? []).slice().sort();
    for (const topic of topics)
      if (!granted.includes(topic))
        problems.push(`${name} publishes to ${topic} but may not (function_access)`);
    for (const topic of granted)
      if (!topics.includes(topic)) problems.push(`${name} may publish to ${topic} but never does`);
  }
  for (const [name, buckets] of Object.entries(code.bucketsByFunction)) {
    const granted = access[name] ?? {};
    const pairs: [string, boolean, unknown][] = [
      ['reads_sources', buckets.readsSources, granted.reads_sources],
      ['writes_quarantine', buckets.writesQuarantine, granted.writes_quarantine],
      ['impersonates_principals', buckets.impersonatesPrincipals, granted.impersonates_principals],
      ['creates_principals', buckets.createsPrincipals, granted.creates_principals],
    ];
    for (const [key, does, may] of pairs)
      if (does !== may)
        problems.push(`${name}: ${key} is ${String(may)} but its code ${does ? 'does' : 'never does'}`);
  }
  return problems;
};

/**
 * The subnet holds two addresses per instance for every function at its max_instances (Direct VPC egress), by the
 * module's defaults, and the module refuses a deployment whose sizes would not fit (a precondition on the subnet).
 */
const subnetRule: Rule = (module) => {
  const problems: string[] = [];
  const cidr = /subnet_cidr\s*=\s*optional\(string,\s*\\?"([\d./]+)\\?"\)/.exec(
    str(module.variable.network?.type),
  )?.[1];
  const maxima = [
    ...str(module.variable.functions?.type).matchAll(/max_instances\s*=\s*optional\(number,\s*(\d+)\)/g),
  ].map((m) => Number(m[1]));
  const prefix = Number(cidr?.split('/')[1]);
  const usable = 2 ** (32 - prefix) - 4;
  const needed = 2 * maxima.reduce((a, b) => a + b, 0);
  if (!cidr || maxima.length === 0) problems.push('cannot read the default subnet or max_instances');
  else if (usable < needed)
    problems.push(
      `the default subnet ${cidr} holds ${usable} addresses; the default max_instances need ${needed}`,
    );
  const subnet = module.resource.google_compute_subnetwork?.functions;
  const lifecycle = (subnet?.lifecycle as Block[] | undefined)?.[0];
  const precondition = (lifecycle?.precondition as Block[] | undefined)?.[0];
  if (!/subnet_usable_addresses\s*>=\s*local\.subnet_addresses_needed/.test(str(precondition?.condition)))
    problems.push('the subnet has no precondition that it holds the functions at max_instances');
  return problems;
};

/** Event names a logging filter selects: `jsonPayload.event="x"`. */
const eventsOf = (filter: string): string[] =>
  [...filter.matchAll(/jsonPayload\.event\s*=\s*\\?"(\w+)\\?"/g)].map((m) => m[1] ?? '');

const metricsRule: Rule = (module, code) => {
  const problems: string[] = [];
  const counted = new Set<string>();
  for (const name of Object.keys(module.resource.google_logging_metric ?? {})) {
    for (const metric of instances(module, 'google_logging_metric', name)) {
      const events = eventsOf(str(metric.body.filter));
      if (events.length === 0) problems.push(`metric ${metric.key} filters on no event`);
      for (const event of events) {
        if (!code.logEvents.includes(event))
          problems.push(`metric ${metric.key} counts ${event}, which is no log event`);
        if (name === 'events') counted.add(event);
      }
    }
  }
  for (const event of code.logEvents) if (!counted.has(event)) problems.push(`no metric counts ${event}`);
  return problems;
};

/** Log metrics referenced by alert filters and by the dashboard exist. */
const alertsRule: Rule = (module, code) => {
  const problems: string[] = [];
  const metricKeys = new Set([
    ...Object.keys(table(module, 'event_metrics')),
    ...Object.keys(table(module, 'value_metrics')),
  ]);
  const policies = instances(module, 'google_monitoring_alert_policy', 'this');
  if (policies.length === 0) problems.push('no alert policy');
  const body = module.resource.google_monitoring_alert_policy?.this;
  if (!str(body?.dynamic).includes('google_logging_metric.events[conditions.key]'))
    problems.push("the alert policies' event conditions do not watch google_logging_metric.events");
  for (const policy of policies) {
    for (const key of Object.keys((policy.value.events ?? {}) as object))
      if (!metricKeys.has(key))
        problems.push(`alert ${policy.key} watches metric ${key}, which does not exist`);
    const anchor = str(policy.value.runbook);
    if (!code.runbookAnchors.includes(anchor))
      problems.push(`alert ${policy.key} links runbook #${anchor}, which docs/OPERATIONS.md lacks`);
  }
  for (const [at, text] of strings(code.dashboard as never)) {
    for (const m of text.matchAll(/logging\.googleapis\.com\/user\/gcs_export\/(\w+)/g))
      if (!metricKeys.has(m[1] ?? '')) problems.push(`dashboard ${at} charts ${m[1]}, which is no metric`);
    for (const m of text.matchAll(/user_gcs_export_(\w+?)(?:_sum|_count|_bucket)?\{/g))
      if (!metricKeys.has(m[1] ?? '')) problems.push(`dashboard ${at} queries ${m[1]}, which is no metric`);
  }
  return problems;
};

function exemptFields(module: TerraformModule): { collection: string; field: string }[] {
  const out: { collection: string; field: string }[] = [];
  for (const [name, body] of Object.entries(module.resource.google_firestore_field ?? {})) {
    const exempts =
      Array.isArray(body.index_config) &&
      isObject(body.index_config[0]) &&
      Object.keys(body.index_config[0]).length === 0;
    if (!exempts) continue;
    if (name === 'ttl') {
      const ttl = table(module, 'firestore_ttl') as unknown as { field: string; collection_groups: string[] };
      for (const collection of ttl.collection_groups) out.push({ collection, field: ttl.field });
    } else out.push({ collection: expr(body.collection), field: expr(body.field) });
  }
  return out;
}

const firestoreRule: Rule = (module, code) => {
  const problems: string[] = [];
  for (const q of code.sourceQueries)
    if (
      !code.queries.some(
        (d) =>
          d.collectionGroup === q.collectionGroup && [...d.equals].sort().join('+') === q.fields.join('+'),
      )
    )
      problems.push(`query not declared in FIRESTORE_QUERIES: ${q.at}`);
  const declared = Object.values(table(module, 'firestore_composite_indexes')).map((i) =>
    JSON.stringify({
      collectionGroup: i.collection,
      fields: (i.fields as { field_path: string; order: string }[]).map((f) => ({
        field: f.field_path,
        order: f.order,
      })),
    }),
  );
  const needed = code.compositeIndexes.map((i) => JSON.stringify(i));
  for (const index of needed)
    if (!declared.includes(index)) problems.push(`missing composite index ${index}`);
  for (const index of declared)
    if (!needed.includes(index)) problems.push(`composite index no query needs: ${index}`);
  const exempt = exemptFields(module);
  for (const q of code.queries)
    for (const field of q.equals)
      if (exempt.some((e) => e.collection === q.collectionGroup && e.field === field))
        problems.push(`${q.collectionGroup}.${field} is queried (${q.usedBy}) but exempt from indexing`);
  const ttl = table(module, 'firestore_ttl') as unknown as { field: string; collection_groups: string[] };
  if (ttl.field !== code.ttl.field) problems.push(`TTL field ${ttl.field} is not ${code.ttl.field}`);
  if ([...ttl.collection_groups].sort().join() !== [...code.ttl.collectionGroups].sort().join())
    problems.push(
      `TTL on ${ttl.collection_groups.join()}, the adapter writes it on ${code.ttl.collectionGroups.join()}`,
    );
  const ttlResource = module.resource.google_firestore_field?.ttl;
  if (!ttlResource?.ttl_config) problems.push('no TTL policy resource');
  return problems;
};

const PRIMITIVE = /^roles\/(owner|editor|viewer)$/;
const PUBLIC = /\b(allUsers|allAuthenticatedUsers)\b/;

/** Everything that ends up in the deployment: resources, data, locals and variable defaults. */
function* deployedStrings(module: TerraformModule): Generator<[string, string]> {
  yield* strings(module.resource, 'resource');
  yield* strings(module.data, 'data');
  yield* strings(module.locals, 'local');
  for (const [name, variable] of Object.entries(module.variable))
    yield* strings(variable.default, `var.${name}.default`);
}

const primitiveRolesRule: Rule = (module) =>
  [...deployedStrings(module)].filter(([, s]) => PRIMITIVE.test(s)).map(([at, s]) => `${at} grants ${s}`);

const publicMembersRule: Rule = (module) => {
  const problems = [...deployedStrings(module)]
    .filter(([, s]) => PUBLIC.test(s))
    .map(([at, s]) => `${at} is public: ${s}`);
  // The one member list that comes from outside must be validated to service accounts.
  for (const [name, body] of Object.entries(module.resource).flatMap(([type, byName]) =>
    Object.entries(byName).map(([n, b]) => [`${type}.${n}`, b] as const),
  )) {
    const member = str(body.member ?? '');
    for (const ref of varRefs(member === '${each.value}' ? body.for_each : member)) {
      const variable = module.variable[ref.split('.')[0] ?? ''];
      const validated = (variable?.validation as Block[] | undefined)?.some((v) =>
        str(v.condition).includes('startswith(m, "serviceAccount:")'),
      );
      if (!validated)
        problems.push(`${name} grants to var.${ref}, which is not validated to service accounts`);
    }
  }
  return problems;
};

/** A bound of a zod number, or undefined when it has none. */
function bounds(schema: unknown): { min?: number; max?: number; options?: string[] } {
  let s = schema as {
    def?: { type?: string; innerType?: unknown; in?: unknown };
    minValue?: number | null;
    maxValue?: number | null;
    options?: string[];
  };
  while (s.def?.innerType || s.def?.type === 'pipe') s = (s.def.innerType ?? s.def.in) as typeof s;
  const max = s.maxValue ?? undefined;
  return {
    ...(typeof s.minValue === 'number' && Number.isFinite(s.minValue) ? { min: s.minValue } : {}),
    ...(typeof max === 'number' && max < Number.MAX_SAFE_INTEGER ? { max } : {}),
    ...(s.options ? { options: s.options } : {}),
  };
}

const boundsRule: Rule = (module, code) => {
  const problems: string[] = [];
  const { plain } = deployedEnv(module);
  for (const [name, value] of Object.entries(plain)) {
    const refs = varRefs(value as string);
    const schema = code.env[name];
    if (refs.length !== 1 || !schema) continue;
    const ref = refs[0] ?? '';
    const variable = module.variable[ref.split('.')[0] ?? ''];
    const conditions = ((variable?.validation as Block[] | undefined) ?? []).map((v) => expr(v.condition));
    const { min, max, options: all } = bounds(schema);
    const options = code.deployedOptions[name] ?? all;
    const has = (text: string) => conditions.some((c) => c.includes(text));
    if (min !== undefined && !has(`var.${ref} >= ${min}`))
      problems.push(`${name} ≥ ${min} in shared/config.ts, but var.${ref} is not validated so`);
    if (max !== undefined && !has(`var.${ref} <= ${max}`))
      problems.push(`${name} ≤ ${max} in shared/config.ts, but var.${ref} is not validated so`);
    if (options && str(value) === `\${var.${ref}}`) {
      const listed = conditions
        .map(
          (c) => new RegExp(`contains\\(\\[([^\\]]*)\\], var\\.${ref.replace('.', '\\.')}\\)`).exec(c)?.[1],
        )
        .find(Boolean);
      const allowed = listed ? [...listed.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '') : [];
      if (!listed || allowed.some((a) => !options.includes(a)) || options.some((o) => !allowed.includes(o)))
        problems.push(
          `${name} is one of ${options.join(', ')}, but var.${ref} is not validated to exactly those`,
        );
    }
  }
  return problems;
};

export const RULES: Record<string, Rule> = {
  'every registered function is deployed with its entry point and trigger': functionsRule,
  'every variable the config module reads is set (or left unset with a reason), and no unknown one':
    environmentRule,
  'every topic the code publishes to exists': topicsRule,
  'each function may publish and touch buckets exactly where its code does': publishersRule,
  'the subnet holds two addresses per instance at max_instances': subnetRule,
  'every metric filter names an event the logger can write, and every event is counted': metricsRule,
  'alerts and the dashboard use existing metrics, and each alert links its runbook': alertsRule,
  'every Firestore query has its index, and the TTL policies match the adapter': firestoreRule,
  'no primitive role': primitiveRolesRule,
  'no public member': publicMembersRule,
  "variable validations match shared/config.ts's bounds": boundsRule,
};

import jsonPatch from 'fast-json-patch';
import { Pod } from 'kubernetes-models/v1';
import t from 'tap';
import { parse } from 'yaml';
import { globOf, matchesRule } from '../../src/commands/inject/container-rules.ts';
import { inject } from '../../src/commands/inject/inject.ts';
import {
  type AdmissionSettings,
  choose,
  plan,
  requestOf,
  responseOf,
} from '../../src/commands/webhook/admission.ts';
import { DEFAULT_CONFIG, parseWebhookConfig } from '../../src/commands/webhook/config.ts';
import { WebhookMetrics } from '../../src/commands/webhook/metrics.ts';

const settings = (extra: Partial<AdmissionSettings> = {}): AdmissionSettings => ({
  config: DEFAULT_CONFIG,
  mode: 'auto',
  nativeSidecarsAvailable: false,
  image: 'ghcr.io/kubexit/kubexit:0.1.0',
  ownNamespace: 'kubexit-system',
  ...extra,
});

const review = (object: unknown, request: Record<string, unknown> = {}) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace: 'jobs',
    object,
    ...request,
  },
});

const pod = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'job-', ...(extra.metadata as object) },
  spec: { restartPolicy: 'Never', containers, ...(extra.spec as object) },
});

const airflow = pod([
  { name: 'base', image: 'apache/airflow:2.10.5', command: ['airflow', 'tasks', 'run'] },
  {
    name: 'vault-agent',
    image: 'hashicorp/vault:1.18',
    command: ['vault', 'agent'],
    readinessProbe: { exec: { command: ['test', '-f', '/vault/secrets/token'] } },
  },
]);

t.test('an AdmissionReview is read, or why not is said', async (t) => {
  t.match(requestOf(review(airflow)), {
    uid: 'u-1',
    kind: 'Pod',
    operation: 'CREATE',
    namespace: 'jobs',
  });
  t.same(requestOf('x'), { error: 'the body is not a JSON object' });
  t.same(requestOf({ ...review(airflow), apiVersion: 'admission.k8s.io/v1beta1' }), {
    error: 'the body is not an admission.k8s.io/v1 AdmissionReview',
  });
  t.same(requestOf({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), {
    error: 'the AdmissionReview has no request',
  });
  t.same(requestOf(review(airflow, { uid: '' })), {
    error: 'the AdmissionReview request has no uid',
  });
  t.match(requestOf(review(airflow, { dryRun: true })), { dryRun: true });
});

t.test(
  'who is touched: pods created in namespaces not excluded, restart policies, opt-out',
  async (t) => {
    const request = (object: unknown, extra: Record<string, unknown> = {}) => {
      const read = requestOf(review(object, extra));
      if ('error' in read) throw new Error(read.error);
      return read;
    };
    t.same(choose(request(airflow), settings()), { mode: 'wrap' });
    t.same(choose(request(airflow), settings({ nativeSidecarsAvailable: true })), {
      mode: 'native',
    });
    t.same(choose(request(airflow), settings({ mode: 'wrap', nativeSidecarsAvailable: true })), {
      mode: 'wrap',
    });
    t.same(choose(request(airflow), settings({ mode: 'native' })), { mode: 'native' });
    t.match(choose(request(airflow, { namespace: 'kube-system' }), settings()), {
      skip: /kube-system is excluded/,
    });
    t.match(choose(request(airflow, { namespace: 'kubexit-system' }), settings()), {
      skip: /excluded/,
    });
    t.match(choose(request(airflow, { operation: 'UPDATE' }), settings()), { skip: /UPDATE/ });
    t.match(choose(request(airflow, { kind: { kind: 'Deployment' } }), settings()), {
      skip: /a Deployment object/,
    });
    const always = pod([{ name: 'a', image: 'a' }], { spec: { restartPolicy: 'Always' } });
    t.match(choose(request(always), settings()), { skip: /restartPolicy Always/ });
    const optedOut = pod([{ name: 'a', image: 'a' }], {
      metadata: { annotations: { 'kubexit.io/inject': 'false' } },
    });
    t.match(choose(request(optedOut), settings()), { skip: /kubexit.io\/inject: "false"/ });
    const asked = pod([{ name: 'a', image: 'a' }], {
      metadata: { annotations: { 'kubexit.io/mode': 'native' } },
    });
    t.same(choose(request(asked), settings()), { mode: 'native' }, 'the pod chooses its mode');
    const meshed = pod([
      { name: 'app', image: 'a', command: ['a'] },
      { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' },
    ]);
    t.same(
      choose(request(meshed), settings({ nativeSidecarsAvailable: true })),
      { mode: 'wrap' },
      'a regular mesh proxy already there needs a shutdown call: auto wraps',
    );
  },
);

t.test("the webhook's patch is inject's: the same pod either way", async (t) => {
  for (const mode of ['wrap', 'native'] as const) {
    const decision = plan(airflow, mode, settings(), new Map());
    t.equal(decision.outcome, 'mutated', mode);
    const patched = jsonPatch.applyPatch(
      structuredClone(airflow),
      decision.patch as never,
      true,
      false,
    ).newDocument;
    const text = inject(JSON.stringify(airflow, null, 2), {
      sidecars: [],
      sidecarRules: DEFAULT_CONFIG.sidecarRules,
      mainRules: DEFAULT_CONFIG.mainRules,
      entrypoints: new Map(),
      image: 'ghcr.io/kubexit/kubexit:0.1.0',
      nativeSidecars: mode === 'native',
    });
    t.same(patched, parse(text), `${mode}: the patched pod is inject's`);
    t.doesNotThrow(() => new Pod(patched as never).validate(), `${mode}: schema-valid`);
  }
  const wired = jsonPatch.applyPatch(
    structuredClone(airflow),
    plan(airflow, 'wrap', settings(), new Map()).patch as never,
  ).newDocument;
  t.match(
    plan(wired, 'wrap', settings(), new Map()),
    { outcome: 'unchanged', patch: [] },
    'called again (reinvocation): nothing more',
  );
});

t.test('a pod inject refuses is admitted unchanged, the reason a warning', async (t) => {
  const onlySidecars = pod([{ name: 'vault-agent', image: 'v', command: ['v'] }]);
  const decision = plan(onlySidecars, 'wrap', settings(), new Map());
  t.match(decision, { outcome: 'failed', patch: [] });
  t.match(
    decision.warnings[0],
    /^kubexit: pod admitted unchanged: the pod \(Pod \(unnamed\)\): every container is a sidecar/,
  );
});

t.test(
  'the answer: the uid, always allowed, a base64 JSON Patch, warnings the API server keeps',
  async (t) => {
    const answer = responseOf('u-9', {
      patch: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }],
      warnings: [`line one\nline two ${'x'.repeat(300)}`],
    }) as { response: Record<string, unknown> };
    t.match(answer, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    t.match(answer.response, { uid: 'u-9', allowed: true, patchType: 'JSONPatch' });
    t.same(JSON.parse(Buffer.from(String(answer.response.patch), 'base64').toString()), [
      { op: 'add', path: '/metadata/labels', value: { a: 'b' } },
    ]);
    const [warning] = answer.response.warnings as string[];
    t.ok(
      (warning?.length ?? 0) <= 256 && !/\n/.test(warning ?? ''),
      'one line, at most 256 characters',
    );
    t.same(responseOf('u-0', { patch: [], warnings: [] }), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u-0', allowed: true },
    });
  },
);

t.test('container rules: names and image globs; presets and the configuration file', async (t) => {
  t.ok(globOf('**/cloud-sql-proxy*').test('gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.3'));
  t.notOk(globOf('*/fluent-bit:*').test('a/b/fluent-bit:3'), '* stops at /');
  t.ok(globOf('*/fluent-bit:*').test('fluent/fluent-bit:3'));
  t.ok(matchesRule({ name: 'vault-agent', image: 'x' }, { name: 'vault-agent' }));
  t.notOk(matchesRule({ name: 'x' }, {}), 'an empty rule matches nothing');
  const config = parseWebhookConfig(
    'presets: [airflow]\nsidecars: [{ image: "**/fluent-bit:*" }]\nexcludeNamespaces: [monitoring]\n',
    'webhook.yaml',
  );
  t.same(config.presets, ['airflow']);
  t.same(config.mainRules, [{ name: 'base' }]);
  t.same(config.sidecarRules, [{ image: '**/fluent-bit:*' }]);
  t.same(config.restartPolicies, ['Never', 'OnFailure']);
  const refused: Array<[string, RegExp]> = [
    ['presets: [istio-mesh]', /presets: istio-mesh is not a preset: use cloud-sql-proxy/],
    ['sidecar: []', /has sidecar, which it doesn't know: use presets, sidecars/],
    [
      'sidecars: [{ nam: x }]',
      /sidecars\[0\] must be \{ name: CONTAINER \} or \{ image: PATTERN \}/,
    ],
    ['restartPolicies: [Sometimes]', /Sometimes is not a restart policy/],
    ['[a', /is not valid YAML/],
    ['- a', /must be a map of presets/],
  ];
  for (const [text, message] of refused)
    t.throws(() => parseWebhookConfig(text, 'webhook.yaml'), { message, exitCode: 2 }, text);
});

t.test('metrics in the Prometheus text format', async (t) => {
  const metrics = new WebhookMetrics();
  metrics.admission('mutated', 'wrap', 0.003);
  metrics.admission('skipped', 'none', 0.0004);
  metrics.badRequest('json');
  const text = metrics.text();
  t.match(text, 'kubexit_webhook_admissions_total{outcome="mutated",mode="wrap"} 1\n');
  t.match(text, 'kubexit_webhook_admission_duration_seconds_bucket{le="0.001"} 1\n');
  t.match(text, 'kubexit_webhook_admission_duration_seconds_bucket{le="0.005"} 2\n');
  t.match(text, 'kubexit_webhook_admission_duration_seconds_count 2\n');
  t.match(text, '# TYPE kubexit_webhook_admission_duration_seconds histogram\n');
});

t.test(
  'called again after a mesh webhook added its proxy: the mains wait for it and stop it',
  async (t) => {
    const job = pod(
      [
        { name: 'app', image: 'a', command: ['app'] },
        { name: 'db', image: 'd', command: ['db'], readinessProbe: { tcpSocket: { port: 5432 } } },
      ],
      { metadata: { annotations: { 'kubexit.io/sidecars': 'db' } } },
    );
    const first = jsonPatch.applyPatch(
      structuredClone(job),
      plan(job, 'wrap', settings(), new Map()).patch as never,
    ).newDocument;
    // Istio's injector, called after kubexit: its proxy as a regular container.
    const meshed = structuredClone(first) as typeof job;
    meshed.spec.containers.push({
      name: 'istio-proxy',
      image: 'docker.io/istio/proxyv2:1.24.0',
    } as never);
    const again = plan(meshed, 'wrap', settings(), new Map());
    t.equal(again.outcome, 'mutated');
    const final = jsonPatch.applyPatch(structuredClone(meshed), again.patch as never)
      .newDocument as typeof job;
    const env = Object.fromEntries(
      (final.spec.containers[0] as { env: Array<{ name: string; value: string }> }).env.map((e) => [
        e.name,
        e.value,
      ]),
    );
    t.equal(
      env.KUBEXIT_BIRTH_DEPS,
      'db,http://127.0.0.1:15021/healthz/ready',
      'the proxy added to what it waits for',
    );
    t.equal(env.KUBEXIT_SHUTDOWN_URLS, 'istio', 'and stopped when the app ends');
    t.equal(
      (final.spec.containers[2] as { command?: string[] }).command,
      undefined,
      'the proxy unwrapped',
    );
    t.same(plan(final, 'wrap', settings(), new Map()).patch, [], 'a third call changes nothing');
  },
);

t.test(
  'pods opting in one by one by annotation (/mutate/annotated): only those that say so',
  async (t) => {
    const read = (object: unknown) => {
      const request = requestOf(review(object));
      if ('error' in request) throw new Error(request.error);
      return request;
    };
    const annotated = settings({ optInByAnnotation: true });
    t.match(choose(read(airflow), annotated), { skip: /has no kubexit.io\/inject: "true"/ });
    const asking = { ...airflow, metadata: { annotations: { 'kubexit.io/inject': 'true' } } };
    t.same(choose(read(asking), annotated), { mode: 'wrap' });
    t.same(
      choose(read(airflow), settings()),
      { mode: 'wrap' },
      'elsewhere no annotation is needed',
    );
  },
);

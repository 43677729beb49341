import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonPatch from 'fast-json-patch';
import { Pod } from 'kubernetes-models/v1';
import t from 'tap';
import { parse } from 'yaml';
import { imagesNeededFor, inject } from '../../src/commands/inject/inject.ts';
import { proxyMesh } from '../../src/commands/inject/meshes.ts';
import type { InjectOptions } from '../../src/commands/inject/options.ts';
import { DEFAULT_CONFIG } from '../../src/commands/webhook/config.ts';
import { objectsOf } from '../helpers/inject-checks.ts';
import { SELF_SIGNED } from '../helpers/servers.ts';
import { startSlowRegistry } from '../helpers/slow-registry.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  admissionReview,
  call,
  patchOf,
  podWithSidecar,
  RunningWebhook,
} from '../helpers/webhook.ts';

const CORPUS = fileURLToPath(new URL('../inject/corpus/', import.meta.url));
const SOURCES = Object.keys(JSON.parse(readFileSync(join(CORPUS, 'sources.json'), 'utf8')));
const IMAGE = 'ghcr.io/kubexit/kubexit:0.1.0';

/** The pods of a manifest, as the controllers of its kinds would create them. */
function podsOf(text: string): Array<Record<string, unknown>> {
  type Template = { metadata?: unknown; spec?: { containers?: unknown } };
  type Templated = {
    kind?: string;
    spec?: Template['spec'] & {
      template?: Template;
      jobTemplate?: { spec?: { template?: Template } };
    };
  };
  return objectsOf(text).flatMap((object) => {
    const doc = object as Templated | null;
    if (
      !['Pod', 'Job', 'CronJob', 'Deployment', 'StatefulSet', 'DaemonSet'].includes(
        String(doc?.kind),
      )
    )
      return [];
    const template: Template | undefined =
      doc?.kind === 'Pod'
        ? (doc as Template)
        : (doc?.spec?.jobTemplate?.spec?.template ?? doc?.spec?.template);
    if (template?.spec?.containers === undefined) return [];
    return [
      { apiVersion: 'v1', kind: 'Pod', metadata: template.metadata ?? {}, spec: template.spec },
    ];
  });
}

function podContainers(pod: Record<string, unknown>): Array<Record<string, unknown>> {
  return (pod.spec as { containers?: Array<Record<string, unknown>> }).containers ?? [];
}

const injectOptions = (native: boolean): InjectOptions => ({
  sidecars: [],
  sidecarRules: DEFAULT_CONFIG.sidecarRules,
  mainRules: DEFAULT_CONFIG.mainRules,
  entrypoints: new Map(),
  image: IMAGE,
  nativeSidecars: native,
});

t.test('health, readiness and metrics; other paths and methods are refused', async (t) => {
  const webhook = await new RunningWebhook(['--kubernetes-version', '1.28']).started();
  t.teardown(() => webhook.stop());
  t.match(await call(webhook.port, 'GET', '/healthz'), { status: 200, text: 'ok\n' });
  t.match(await call(webhook.port, 'GET', '/readyz'), { status: 200 });
  t.match(await call(webhook.port, 'GET', '/nope'), {
    status: 404,
    json: { error: /POST \/mutate/ },
  });
  t.match(await call(webhook.port, 'GET', '/mutate'), { status: 405 });
  const metrics = await call(webhook.port, 'GET', '/metrics');
  t.match(metrics.text, 'kubexit_webhook_bad_requests_total{reason="not-found"} 1');
});

for (const [version, native] of [
  ['1.28', false],
  ['1.31', true],
] as const) {
  t.test(
    `Kubernetes ${version}: every pod of the corpus, through the webhook, is the pod inject makes (${native ? 'native sidecars' : 'kubexit'})`,
    async (t) => {
      const webhook = await new RunningWebhook([
        '--kubernetes-version',
        version,
        '--registry-timeout',
        '200ms',
      ]).started();
      t.teardown(() => webhook.stop());
      let compared = 0;
      for (const name of SOURCES) {
        for (const [index, pod] of podsOf(readFileSync(join(CORPUS, name), 'utf8')).entries()) {
          const label = `${name} pod ${index + 1}`;
          const answer = await call(webhook.port, 'POST', '/mutate', admissionReview(pod));
          t.equal(answer.status, 200, label);
          const response = (
            answer.json as { response: { uid: string; allowed: boolean; warnings?: string[] } }
          ).response;
          t.equal(response.allowed, true, `${label}: allowed`);
          const restartPolicy = (pod.spec as { restartPolicy?: string }).restartPolicy ?? 'Always';
          if (restartPolicy === 'Always') {
            t.same(patchOf(answer), [], `${label}: restartPolicy Always, left alone`);
            continue;
          }
          // A regular mesh proxy already in the pod needs kubexit's shutdown call: wrapped.
          const wrapped = !native || podContainers(pod).some((c) => proxyMesh(c) !== undefined);
          const needs = wrapped ? imagesNeededFor(pod, injectOptions(false)) : [];
          if (needs.length > 0) {
            // Images on registries this machine can't reach: admitted as they came, said so.
            t.same(patchOf(answer), [], `${label}: unchanged`);
            t.match(response.warnings?.join('\n'), /could not be read in time/, `${label}: warned`);
            continue;
          }
          const patched = jsonPatch.applyPatch(
            structuredClone(pod),
            patchOf(answer) as never,
            true,
            false,
          ).newDocument;
          let expected: unknown;
          try {
            expected = parse(inject(JSON.stringify(pod), injectOptions(!wrapped)));
          } catch {
            expected = pod; // inject refuses it (exit 2): the webhook admits it unchanged.
          }
          t.same(patched, expected, `${label}: the pod inject makes`);
          t.doesNotThrow(() => new Pod(patched as never).validate(), `${label}: schema-valid`);
          compared++;
        }
      }
      t.ok(compared >= 15, `${compared} pods compared`);
    },
  );
}

t.test('bad input gets a correct answer or a 4xx, never a crash or a hang', async (t) => {
  const webhook = await new RunningWebhook([
    '--kubernetes-version',
    '1.28',
    '--max-body',
    '64Ki',
  ]).started();
  t.teardown(() => webhook.stop());
  const pod = podWithSidecar({ name: 'app', image: 'a', command: ['app'] });
  t.match(await call(webhook.port, 'POST', '/mutate', undefined, { raw: '{"apiVersion": ' }), {
    status: 400,
    json: { error: /not JSON/ },
  });
  const noUid = admissionReview(pod);
  delete (noUid.request as Record<string, unknown>).uid;
  t.match(await call(webhook.port, 'POST', '/mutate', noUid), {
    status: 400,
    json: { error: /no uid/ },
  });
  t.match(await call(webhook.port, 'POST', '/mutate', { kind: 'Pod' }), { status: 400 });
  const deployment = await call(
    webhook.port,
    'POST',
    '/mutate',
    admissionReview(
      { kind: 'Deployment' },
      { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, uid: 'd-1' },
    ),
  );
  t.same(deployment.json, {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'd-1', allowed: true },
  });
  const huge = await call(webhook.port, 'POST', '/mutate', undefined, {
    raw: `"${'x'.repeat(200_000)}"`,
  });
  t.match(huge, { status: 413, json: { error: /limited to 65536 bytes/ } });
  const dry = await call(
    webhook.port,
    'POST',
    '/mutate',
    admissionReview(pod, { dryRun: true, uid: 'dry-1' }),
  );
  t.match(
    dry.json,
    { response: { uid: 'dry-1', allowed: true, patchType: 'JSONPatch' } },
    'dryRun: the same patch (no side effects)',
  );
  t.match(await call(webhook.port, 'GET', '/healthz'), { status: 200 }, 'still serving');
});

t.test(
  'a registry that hangs never makes the answer late: admitted unchanged, with a warning',
  async (t) => {
    const sockets = new Set<Socket>();
    const hanging = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => hanging.close(resolve));
    });
    const port = (hanging.address() as { port: number }).port;
    const webhook = await new RunningWebhook([
      '--kubernetes-version',
      '1.28',
      '--registry-timeout',
      '500ms',
    ]).started();
    t.teardown(() => webhook.stop());
    const pod = podWithSidecar({ name: 'app', image: `127.0.0.1:${port}/team/app:1` });
    // The API server gives a webhook timeoutSeconds (10 in deploy/): the answer must come well before.
    let answer: Awaited<ReturnType<typeof call>> | undefined;
    void call(webhook.port, 'POST', '/mutate', admissionReview(pod)).then((result) => {
      answer = result;
    });
    await waitFor(() => answer, 'the answer, within the API server timeout', { timeoutMs: 5_000 });
    t.same(patchOf(answer as never), []);
    t.match(
      (answer?.json as { response: { warnings: string[] } } | undefined)?.response.warnings[0],
      /container app \(image 127\.0\.0\.1:\d+\/team\/app:1\) runs could not be read in time/,
    );
  },
);

t.test('certificate rotation under load loses no request', async (t) => {
  const dir = t.testdir();
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  writeFileSync(cert, SELF_SIGNED.cert);
  writeFileSync(key, SELF_SIGNED.key);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      join(dir, 'next.key'),
      '-out',
      join(dir, 'next.crt'),
    ],
    { stdio: 'ignore' },
  );
  const next = readFileSync(join(dir, 'next.crt'));
  const webhook = await new RunningWebhook([
    '--kubernetes-version',
    '1.28',
    '--tls-cert-file',
    cert,
    '--tls-key-file',
    key,
    '--reload-interval',
    '100ms',
  ]).started();
  t.teardown(() => webhook.stop());
  const ca = [SELF_SIGNED.cert, next];
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'a', command: ['a'] }] },
  };
  const first = await call(webhook.port, 'GET', '/healthz', undefined, { ca });
  let rotated = false;
  const seen = new Set<string>();
  const failures: string[] = [];
  const load = async () => {
    for (let i = 0; !rotated || i < 20; i++) {
      try {
        const answer = await call(webhook.port, 'POST', '/mutate', admissionReview(pod), { ca });
        if (answer.status !== 200) failures.push(`HTTP ${answer.status}`);
        seen.add(answer.certificate);
      } catch (error) {
        failures.push((error as Error).message);
      }
      if (seen.size === 2) rotated = true;
    }
  };
  const clients = Array.from({ length: 8 }, load);
  // cert-manager's Secret update, as the kubelet makes it: each file replaced whole.
  renameSync(join(dir, 'next.key'), key);
  renameSync(join(dir, 'next.crt'), cert);
  await Promise.all(clients);
  t.same(failures, [], 'every request answered');
  t.equal(seen.size, 2, 'both certificates served');
  const after = await call(webhook.port, 'GET', '/healthz', undefined, { ca });
  t.not(after.certificate, first.certificate, 'new connections get the new certificate');
  t.match(webhook.container.stderr, /certificate reloaded/);
});

t.test(
  'SIGTERM under load: /readyz fails, requests in flight are answered, then exit 0',
  async (t) => {
    // A registry that answers slowly keeps admissions in flight.
    const registry = await startSlowRegistry(800);
    t.teardown(registry.stop);
    const webhook = await new RunningWebhook([
      '--kubernetes-version',
      '1.28',
      '--registry-timeout',
      '5s',
      '--shutdown-delay',
      '300ms',
    ]).started();
    const pod = (i: number) =>
      podWithSidecar({ name: 'app', image: `${registry.host}/team/app${i}:1` }, `p${i}`);
    const answers = Array.from({ length: 10 }, (_, i) =>
      call(webhook.port, 'POST', '/mutate', admissionReview(pod(i))),
    );
    await waitFor(() => registry.requests() >= 10, 'ten admissions waiting on the registry');
    webhook.container.kill('SIGTERM');
    await webhook.container.logged(/SIGTERM: draining inFlight=10/);
    t.match(await call(webhook.port, 'GET', '/readyz'), { status: 503, text: 'draining\n' });
    const results = await Promise.all(answers);
    for (const [i, answer] of results.entries()) {
      t.equal(answer.status, 200, `admission ${i} answered`);
      t.ok(patchOf(answer).length > 0, `admission ${i} wired, with its image's command`);
    }
    const ended = await webhook.container.finishedWithin(10_000, 'the webhook to drain and exit');
    t.equal(ended.code, 0);
    t.match(ended.stderr, /drained/);
    await t.rejects(call(webhook.port, 'GET', '/healthz'), /ECONNREFUSED/, 'no longer listening');
  },
);

t.test(
  'the configuration is read again when it changes; a bad one keeps the previous',
  async (t) => {
    const dir = t.testdir();
    const config = join(dir, 'webhook.yaml');
    writeFileSync(config, 'presets: []\n');
    const webhook = await new RunningWebhook([
      '--kubernetes-version',
      '1.28',
      '--config',
      config,
      '--reload-interval',
      '100ms',
    ]).started();
    t.teardown(() => webhook.stop());
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          { name: 'app', image: 'a', command: ['a'] },
          { name: 'shipper', image: 'fluent/fluent-bit:3', command: ['fluent-bit'] },
        ],
      },
    };
    const before = await call(webhook.port, 'POST', '/mutate', admissionReview(pod));
    t.same(patchOf(before), [], 'no rule names a sidecar: nothing to gain');
    writeFileSync(`${config}.new`, 'presets: []\nsidecars: [{ image: "*/fluent-bit:*" }]\n');
    renameSync(`${config}.new`, config);
    await webhook.container.logged(/configuration reloaded/);
    const after = await call(webhook.port, 'POST', '/mutate', admissionReview(pod));
    t.ok(patchOf(after).length > 0, 'the new rule makes shipper a sidecar');
    writeFileSync(config, 'presets: [nope]\n');
    await webhook.container.logged(
      /presets: nope is not a preset.*the previous configuration is kept/,
    );
    t.ok(
      patchOf(await call(webhook.port, 'POST', '/mutate', admissionReview(pod))).length > 0,
      'still the previous',
    );
  },
);

t.test('a configuration error at start: exit 2 naming it', async (t) => {
  const webhook = new RunningWebhook(['--mode', 'sometimes']);
  const ended = await webhook.container.finishedWithin(10_000, 'exit');
  t.equal(ended.code, 2);
  t.match(ended.stderr, /--mode sometimes is not a mode: use native, wrap, auto/);
  const noCert = await new (await import('../helpers/kubexit.ts')).Container(
    ['webhook'],
    {},
  ).finishedWithin(10_000, 'exit');
  t.equal(noCert.code, 2);
  t.match(noCert.stderr, /--tls-cert-file and --tls-key-file are required/);
});

t.test(
  "deploy/make-certificate.sh makes a CA and a serving certificate the API server accepts for the webhook's Service",
  async (t) => {
    const dir = t.testdir();
    const script = fileURLToPath(new URL('../../deploy/make-certificate.sh', import.meta.url));
    execFileSync(script, [dir, 'kubexit-system'], { stdio: 'ignore' });
    const webhook = await new RunningWebhook([
      '--kubernetes-version',
      '1.31',
      '--tls-cert-file',
      join(dir, 'tls.crt'),
      '--tls-key-file',
      join(dir, 'tls.key'),
    ]).started();
    t.teardown(() => webhook.stop());
    // As the API server calls it: the Service's DNS name, the CA from the caBundle.
    const answer = await call(webhook.port, 'GET', '/healthz', undefined, {
      ca: [readFileSync(join(dir, 'ca.crt'))],
      servername: 'kubexit-webhook.kubexit-system.svc',
    });
    t.equal(answer.status, 200);
    await t.rejects(
      call(webhook.port, 'GET', '/healthz', undefined, {
        ca: [readFileSync(join(dir, 'ca.crt'))],
        servername: 'kubexit-webhook.other.svc',
      }),
      /altnames/,
      'for that Service only',
    );
  },
);

t.test(
  'more admissions at once than --max-in-flight: the extra ones get 429 at once',
  async (t) => {
    const registry = await startSlowRegistry(1_000);
    t.teardown(registry.stop);
    const webhook = await new RunningWebhook([
      '--kubernetes-version',
      '1.28',
      '--max-in-flight',
      '2',
      '--registry-timeout',
      '5s',
    ]).started();
    t.teardown(() => webhook.stop());
    const pod = (i: number) =>
      podWithSidecar({ name: 'app', image: `${registry.host}/team/slow${i}:1` }, `p${i}`);
    const slow = [0, 1].map((i) => call(webhook.port, 'POST', '/mutate', admissionReview(pod(i))));
    await waitFor(() => registry.requests() >= 2, 'two admissions in flight');
    const extra = await call(webhook.port, 'POST', '/mutate', admissionReview(pod(2)));
    t.match(extra, { status: 429, json: { error: /more than 2 requests at once/ } });
    for (const answer of await Promise.all(slow))
      t.equal(answer.status, 200, 'those in flight answered');
  },
);

t.test(
  '/mutate/annotated answers only pods that opt in by annotation; --log-format json logs JSON lines',
  async (t) => {
    const webhook = await new RunningWebhook([
      '--kubernetes-version',
      '1.28',
      '--log-format',
      'json',
    ]).started();
    t.teardown(() => webhook.stop());
    const pod = (annotations: Record<string, string>) =>
      podWithSidecar({ name: 'app', image: 'a', command: ['app'] }, 'p', annotations);
    const plain = await call(webhook.port, 'POST', '/mutate/annotated', admissionReview(pod({})));
    t.same(patchOf(plain), [], 'no annotation: unchanged');
    const asking = await call(
      webhook.port,
      'POST',
      '/mutate/annotated',
      admissionReview(pod({ 'kubexit.io/inject': 'true' })),
    );
    t.ok(patchOf(asking).length > 0, 'kubexit.io/inject: "true": wired');
    await webhook.container.logged(/"msg":"mutated/);
    const lines = webhook.container.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    t.match(lines.at(-1), {
      level: 'info',
      msg: /^mutated/,
      namespace: 'jobs',
      pod: 'p',
      mode: 'wrap',
      time: /^\d{4}-/,
    });
    t.match(lines.at(-2), { msg: /^skipped: the pod has no kubexit.io\/inject: "true"/ });
  },
);

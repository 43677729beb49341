import { readdirSync, readFileSync } from 'node:fs';
import { Job } from 'kubernetes-models/batch/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Pod, ServiceAccount } from 'kubernetes-models/v1';
import t, { type Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/core/model/config.ts';
import type { OptionKey } from '../../src/core/model/options.ts';
import { OPTION_SPECS } from '../../src/core/model/options.ts';
import { type PodSpec, restrictedViolations } from '../helpers/pss.ts';

const dir = new URL('../../examples/', import.meta.url);
const kindDir = new URL('../kind/', import.meta.url);
const manifests = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
/** The examples, and the Jobs the kind workflow runs: all must be valid and consistent. */
const allManifests = [
  ...manifests.map((f) => new URL(f, dir)),
  ...readdirSync(kindDir).map((f) => new URL(f, kindDir)),
];

/** Models by apiVersion/kind: each validates against the Kubernetes OpenAPI schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Pod': Pod,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Namespace': Namespace,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

interface Container {
  name: string;
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

function podSpecOf(doc: {
  kind: string;
  spec: { template?: { spec: unknown } } & Record<string, unknown>;
}) {
  return (doc.kind === 'Job' ? doc.spec.template?.spec : doc.spec) as {
    containers: Container[];
    initContainers?: Container[];
  };
}

t.test('there is an example for each kind of sidecar, and the API-mode RBAC', async (t) => {
  for (const file of [
    'queue-sidecar-job.yaml',
    'storage-gateway-pod.yaml',
    'istio-job.yaml',
    'credentials-sidecar-job.yaml',
    'api-mode-rbac.yaml',
  ]) {
    t.ok(manifests.includes(file), file);
  }
});

t.test('example files speak to users, not of internal planning documents', async (t) => {
  for (const file of allManifests)
    t.notMatch(readFileSync(file, 'utf8'), /\bbrief\b|\bscenario\b/i, file.pathname);
});

for (const file of allManifests) {
  t.test(
    `${file.pathname.split('/').slice(-2).join('/')} is valid Kubernetes and a consistent kubexit pod`,
    async (t) => {
      const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
      for (const doc of docs) {
        const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
        t.ok(Model, `a model for ${doc.apiVersion}/${doc.kind}`);
        if (Model)
          t.doesNotThrow(
            () => new Model(doc as never).validate(),
            `${doc.kind} ${doc.metadata?.name} validates`,
          );
        // The webhook's Jobs are written without kubexit: the webhook adds it at admission.
        if (file.pathname.endsWith('/webhook-jobs.yaml') && doc.kind === 'Job')
          t.notMatch(JSON.stringify(doc), /kubexit\/kubexit|KUBEXIT_/, 'no kubexit in it');
        else if (doc.kind === 'Pod' || doc.kind === 'Job') {
          checkKubexitPod(t, podSpecOf(doc));
          t.same(
            restrictedViolations(podSpecOf(doc) as unknown as PodSpec),
            [],
            'passes the restricted Pod Security Standard',
          );
        }
      }
    },
  );
}

function checkKubexitPod(
  t: Test,
  spec: { containers: Container[]; initContainers?: Container[] },
): void {
  const names = new Set([...spec.containers, ...(spec.initContainers ?? [])].map((c) => c.name));
  const installer = (spec.initContainers ?? []).find(
    (c) => (c as { args?: string[] }).args?.join(' ') === 'install /kubexit',
  );
  t.ok(installer, 'an init container installs kubexit into the shared volume');
  t.ok(
    installer?.volumeMounts?.some((m) => m.mountPath === '/kubexit'),
    'at /kubexit',
  );
  for (const container of spec.containers.filter((c) => c.command?.[0] === '/kubexit/kubexit')) {
    const env = Object.fromEntries(
      (container.env ?? [])
        .filter((e) => e.value !== undefined)
        .map((e) => [e.name, e.value as string]),
    );
    t.equal(
      env.KUBEXIT_NAME,
      container.name,
      `${container.name}: KUBEXIT_NAME is the container name`,
    );
    t.ok(
      container.volumeMounts?.some((m) => m.mountPath === '/graveyard'),
      `${container.name}: the graveyard is mounted`,
    );
    t.ok(
      container.volumeMounts?.some((m) => m.mountPath === '/kubexit'),
      `${container.name}: kubexit's volume is mounted`,
    );
    const values = Object.fromEntries(
      OPTION_SPECS.filter((s) => env[s.env] !== undefined).map((s) => [
        s.key,
        { value: env[s.env] as string, source: s.env },
      ]),
    ) as Partial<Record<OptionKey, { value: string; source: string }>>;
    const config = parseConfig({ values, command: container.command?.slice(1) ?? [] });
    for (const dep of [...config.birthDeps, ...config.deathDeps])
      t.ok(names.has(dep), `${container.name}: dependency ${dep} is a container of the pod`);
  }
}

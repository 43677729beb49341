import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { parseWebhookConfig } from '../../src/commands/webhook/config.ts';
import { restrictedViolations } from '../helpers/pss.ts';

/**
 * deploy/ as `kubectl kustomize` renders it (kubectl with kustomize, as operators apply it): each
 * variant renders, every object the schema knows validates, and what an operator of Istio's or
 * Vault's injector expects is there.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const skip =
  kubectl.error === undefined
    ? false
    : 'kubectl is not installed: it renders deploy/ (kubectl kustomize)';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests, read by path in the assertions below
type Rendered = Array<Record<string, any>>;

function render(dir: string): Rendered {
  const result = spawnSync('kubectl', ['kustomize', dir], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((document) => document.toJS());
}

/** A kustomization of a variant with a component, as an operator writes one (relative paths). */
function withComponent(dir: string, variant: string, component: string): string {
  const from = (path: string) => relative(dir, `${ROOT}${path}`);
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${from(variant)}]`,
      `components: [${from(component)}]`,
      '',
    ].join('\n'),
  );
  return dir;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  ServiceAccount,
  ConfigMap,
  Service,
  Deployment,
  PodDisruptionBudget,
  MutatingWebhookConfiguration,
  ClusterRole,
  ClusterRoleBinding,
};

for (const variant of ['deploy/base', 'deploy/cert-manager']) {
  t.test(
    `${variant} renders, validates, and deploys the webhook as it should be`,
    { skip },
    async (t) => {
      const objects = render(variant);
      const of = (kind: string) => objects.filter((object) => object.kind === kind);
      for (const object of objects) {
        const Model = MODELS[object.kind];
        if (Model !== undefined)
          t.doesNotThrow(
            () => new Model(object as never).validate(),
            `${object.kind} ${object.metadata.name}`,
          );
      }
      const [deployment] = of('Deployment');
      t.equal(deployment?.spec.replicas, 2, 'two replicas');
      t.ok(deployment?.spec.template.spec.topologySpreadConstraints.length > 0, 'spread');
      t.same(restrictedViolations(deployment?.spec.template.spec), [], 'restricted Pod Security');
      t.equal(of('PodDisruptionBudget')[0]?.spec.minAvailable, 1, 'a PodDisruptionBudget');
      const namespace = of('Namespace')[0];
      t.equal(namespace?.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
      const container = deployment?.spec.template.spec.containers[0];
      t.same(container.args.slice(0, 1), ['webhook']);
      const config = of('ConfigMap')[0];
      const configFile = container.args
        .find((arg: string) => arg.startsWith('--config='))
        ?.slice('--config='.length);
      t.ok(configFile?.startsWith('/config/'), 'the configuration file is mounted');
      t.doesNotThrow(
        () =>
          parseWebhookConfig(config?.data[configFile.slice('/config/'.length)], 'the ConfigMap'),
        'the shipped configuration is one the webhook reads',
      );
      const [configuration] = of('MutatingWebhookConfiguration');
      t.equal(configuration?.webhooks.length, 2, 'namespaces opt in, and pods one by one');
      for (const webhook of configuration?.webhooks ?? []) {
        t.match(webhook, {
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          reinvocationPolicy: 'IfNeeded',
          admissionReviewVersions: ['v1'],
          clientConfig: {
            service: { name: 'kubexit-webhook', namespace: 'kubexit-system', path: '/mutate' },
          },
        });
        t.ok(
          webhook.timeoutSeconds > 3 && webhook.timeoutSeconds <= 10,
          'timeoutSeconds above the 3s registry budget',
        );
        const excluded = webhook.namespaceSelector.matchExpressions.find(
          (expression: { key: string }) => expression.key === 'kubernetes.io/metadata.name',
        );
        t.same(excluded, {
          key: 'kubernetes.io/metadata.name',
          operator: 'NotIn',
          values: ['kube-system', 'kubexit-system'],
        });
        t.same(webhook.rules, [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ]);
      }
      const service = of('Service')[0];
      t.equal(service?.spec.ports[0].targetPort, 'https');
      t.same(of('ClusterRole'), [], 'no RBAC beyond what the webhook needs (none)');
      if (variant === 'deploy/cert-manager') {
        t.equal(
          configuration?.metadata.annotations['cert-manager.io/inject-ca-from'],
          'kubexit-system/kubexit-webhook',
          "cert-manager's CA injector fills caBundle",
        );
        const serving = of('Certificate').find(
          (object) => object.metadata.name === 'kubexit-webhook',
        );
        t.equal(
          serving?.spec.secretName,
          'kubexit-webhook-tls',
          'the Secret the Deployment mounts',
        );
        t.ok(
          serving?.spec.dnsNames.includes('kubexit-webhook.kubexit-system.svc'),
          "the Service's name",
        );
      }
    },
  );
}

t.test(
  'the pull-secrets component adds one ClusterRole: get on secrets, bound to the webhook',
  { skip },
  async (t) => {
    const dir = withComponent(t.testdir(), 'deploy/base', 'deploy/components/pull-secrets');
    const objects = render(dir);
    const [role] = objects.filter((object) => object.kind === 'ClusterRole');
    t.same(role?.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    const [binding] = objects.filter((object) => object.kind === 'ClusterRoleBinding');
    t.same(binding?.subjects, [
      { kind: 'ServiceAccount', name: 'kubexit-webhook', namespace: 'kubexit-system' },
    ]);
  },
);

t.test(
  'the annotation-opt-in component adds a third webhook, to /mutate/annotated, for pods not labelled',
  { skip },
  async (t) => {
    const dir = withComponent(
      t.testdir(),
      'deploy/cert-manager',
      'deploy/components/annotation-opt-in',
    );
    const [configuration] = render(dir).filter(
      (object) => object.kind === 'MutatingWebhookConfiguration',
    );
    t.doesNotThrow(() => new MutatingWebhookConfiguration(configuration as never).validate());
    t.equal(configuration?.webhooks.length, 3);
    t.match(configuration?.webhooks[2], {
      failurePolicy: 'Ignore',
      clientConfig: { service: { path: '/mutate/annotated' } },
      objectSelector: {
        matchExpressions: [{ key: 'kubexit.io/inject', operator: 'DoesNotExist' }],
      },
    });
  },
);

import t from 'tap';
import type { InClusterApi } from '../../src/adapters/in-cluster-api.ts';
import type { CredentialSource } from '../../src/adapters/registry/docker-credentials.ts';
import { ImageResolver, type RegistryLookUp } from '../../src/commands/webhook/image-resolver.ts';
import { WebhookMetrics } from '../../src/commands/webhook/metrics.ts';

const need = (image: string, container = 'app') => ({
  image,
  platform: 'linux/amd64',
  container,
  where: 'the pod',
});

/** A Kubernetes API with one image pull secret, recording the paths asked. */
function fakeApi(paths: string[]): InClusterApi {
  const dockerconfigjson = Buffer.from(
    JSON.stringify({
      auths: { 'registry.example': { username: 'puller', password: 'from-secret' } },
    }),
  ).toString('base64');
  return {
    get: async (path) => {
      paths.push(path);
      if (path === '/api/v1/namespaces/jobs/secrets/regcred')
        return {
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': dockerconfigjson },
        };
      throw new Error(`GET ${path}: HTTP 404`);
    },
  };
}

t.test("the pod's image pull secrets come first, then the webhook's own credentials", async (t) => {
  const paths: string[] = [];
  const given: Array<string | undefined> = [];
  const lookUp: RegistryLookUp = async (_image, _platform, credentials) => {
    given.push((await credentials('registry.example'))?.password);
    given.push((await credentials('other.example'))?.password);
    return { entrypoint: ['/app'], cmd: [] };
  };
  const own: CredentialSource = async (registry) =>
    registry === 'other.example' ? { username: 'webhook', password: 'own' } : undefined;
  const resolver = new ImageResolver({
    credentials: own,
    api: fakeApi(paths),
    timeoutMs: 1000,
    metrics: new WebhookMetrics(),
    lookUp,
  });
  const resolved = await resolver.resolve(
    [need('registry.example/app:1')],
    ['regcred', 'missing'],
    'jobs',
  );
  t.same(resolved.failed, []);
  t.same([...resolved.images.values()], [{ entrypoint: ['/app'], cmd: [] }]);
  t.same(given, ['from-secret', 'own']);
  t.same(
    paths.sort(),
    ['/api/v1/namespaces/jobs/secrets/missing', '/api/v1/namespaces/jobs/secrets/regcred'],
    'a missing secret is skipped',
  );
});

t.test(
  'lookups are cached: by tag for a while, by digest for good; one lookup for many pods at once',
  async (t) => {
    let lookups = 0;
    const lookUp: RegistryLookUp = async () => {
      lookups++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { entrypoint: ['/app'], cmd: ['serve'] };
    };
    const metrics = new WebhookMetrics();
    const resolver = new ImageResolver({
      credentials: async () => undefined,
      api: undefined,
      timeoutMs: 1000,
      metrics,
      lookUp,
    });
    await Promise.all(
      [1, 2, 3].map(() => resolver.resolve([need('registry.example/app:1')], [], 'jobs')),
    );
    t.equal(lookups, 1, 'three pods at once, one lookup');
    await resolver.resolve([need('registry.example/app:1')], [], 'jobs');
    t.equal(lookups, 1, 'then from memory');
    t.match(metrics.text(), 'kubexit_webhook_registry_cache_hits_total 1');
    t.match(metrics.text(), 'kubexit_webhook_registry_lookups_total{result="ok"} 1');
  },
);

t.test('a lookup past the deadline fails the pod in time, and still fills the cache', async (t) => {
  let answer: (value: { entrypoint: string[]; cmd: string[] }) => void = () => {};
  const lookUp: RegistryLookUp = () => new Promise((resolve) => (answer = resolve));
  const resolver = new ImageResolver({
    credentials: async () => undefined,
    api: undefined,
    timeoutMs: 50,
    metrics: new WebhookMetrics(),
    lookUp,
  });
  const started = Date.now();
  const late = await resolver.resolve([need('registry.example/slow:1', 'web')], [], 'jobs');
  t.ok(Date.now() - started < 1000, 'answered at the deadline');
  t.match(late.failed, [
    { container: 'web', image: 'registry.example/slow:1', reason: /no answer within 50 ms/ },
  ]);
  answer({ entrypoint: ['/slow'], cmd: [] });
  await new Promise((resolve) => setImmediate(resolve));
  const next = await resolver.resolve([need('registry.example/slow:1', 'web')], [], 'jobs');
  t.same(next.failed, [], 'the next pod finds it cached');
});

t.test(
  'a pod whose images are cached costs the API nothing: its pull secrets are not read',
  async (t) => {
    const paths: string[] = [];
    const lookUp: RegistryLookUp = async () => ({ entrypoint: ['/app'], cmd: [] });
    const resolver = new ImageResolver({
      credentials: async () => undefined,
      api: fakeApi(paths),
      timeoutMs: 1000,
      metrics: new WebhookMetrics(),
      lookUp,
    });
    await resolver.resolve([need('registry.example/app:1')], ['regcred'], 'jobs');
    t.same(paths, [], 'the lookup asked for no credentials: no secret read');
    const asking: RegistryLookUp = async (_image, _platform, credentials) => {
      await credentials('registry.example');
      await credentials('registry.example');
      return { entrypoint: ['/b'], cmd: [] };
    };
    const other = new ImageResolver({
      credentials: async () => undefined,
      api: fakeApi(paths),
      timeoutMs: 1000,
      metrics: new WebhookMetrics(),
      lookUp: asking,
    });
    await other.resolve([need('registry.example/b:1')], ['regcred'], 'jobs');
    t.same(paths, ['/api/v1/namespaces/jobs/secrets/regcred'], 'asked twice, read once');
  },
);

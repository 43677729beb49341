import { KubeConfig } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import {
  KubernetesPodReadiness,
  loadKubeConfig,
} from '../../src/adapters/kubernetes-pod-readiness.ts';
import type { PodFacts } from '../../src/core/ports.ts';
import { FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { MemoryLogger } from '../helpers/fakes.ts';
import { waitFor } from '../helpers/wait.ts';

async function setup(t: Test) {
  const api = new FakeKubeApi('jobs', 'forward-queue-x7k2p');
  const kubeconfigPath = await api.kubeconfig(t.testdir());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const logger = new MemoryLogger();
  const readiness = new KubernetesPodReadiness({
    podName: api.podName,
    namespace: api.namespace,
    kubeConfig,
    logger,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  const seen: Array<Set<string>> = [];
  t.teardown(async () => {
    readiness.close();
    await api.close();
  });
  const latest = () => seen.at(-1) ?? new Set<string>();
  return {
    api,
    logger,
    readiness,
    seen,
    latest,
    start: () => readiness.start((ready) => seen.push(new Set(ready))),
  };
}

t.test(
  'reads readiness from the list, then follows the watch, native sidecars included',
  async (t) => {
    const pod = await setup(t);
    pod.api.containers = [
      { name: 'queue', ready: true },
      { name: 'forwarder', ready: false },
    ];
    pod.start();
    await waitFor(() => pod.latest().has('queue'), 'the listed readiness');
    t.notOk(pod.latest().has('forwarder'));
    await waitFor(() => pod.api.watchCount === 1, 'the watch');
    pod.api.setReady([{ name: 'queue', ready: true }], [{ name: 'istio-proxy', ready: true }]);
    await waitFor(() => pod.latest().has('istio-proxy'), 'the native sidecar from a watch event');
    const watch = pod.api.requests.find((r) => r.watch)?.url ?? '';
    t.match(watch, /resourceVersion=100/, 'the watch starts from the list');
    t.match(watch, /allowWatchBookmarks=true/);
  },
);

t.test('a dropped watch is re-established and events keep flowing', async (t) => {
  const pod = await setup(t);
  pod.start();
  await waitFor(() => pod.api.watchCount === 1, 'the first watch');
  pod.api.dropWatches();
  await waitFor(() => pod.api.watchCount === 2, 'a new watch');
  t.equal(pod.api.listCount, 2, 'listed again before watching again');
  pod.api.setReady([{ name: 'queue', ready: true }]);
  await waitFor(() => pod.latest().has('queue'), 'an event on the new watch');
});

t.test('410 Gone resyncs by listing again', async (t) => {
  const pod = await setup(t);
  pod.start();
  await waitFor(() => pod.api.watchCount === 1, 'the first watch');
  pod.api.containers = [{ name: 'queue', ready: true }];
  pod.api.expireWatches();
  await waitFor(() => pod.api.listCount === 2 && pod.latest().has('queue'), 'the re-list');
  await waitFor(() => pod.api.watchCount === 2, 'a new watch');
  t.match(pod.logger.messages('debug').join('\n'), /410 Gone/);
});

t.test('403 is one clear error naming the Role rule, and no retries', async (t) => {
  const pod = await setup(t);
  pod.api.failWith = 403;
  pod.start();
  await pod.readiness.stopped;
  const errors = pod.logger.messages('error');
  t.equal(errors.length, 1);
  t.match(
    errors[0],
    /HTTP 403.*Role with the rule \{apiGroups: \[""\], resources: \["pods"\], verbs: \["get", "list", "watch"\]\}/,
  );
  t.equal(pod.api.requests.length, 1, 'not retried');
});

t.test('server errors are retried with backoff, warning once', async (t) => {
  const pod = await setup(t);
  pod.api.failWith = 500;
  pod.start();
  await waitFor(() => pod.api.requests.length >= 4, 'several retries');
  pod.api.failWith = undefined;
  pod.api.containers = [{ name: 'queue', ready: true }];
  await waitFor(() => pod.latest().has('queue'), 'recovery');
  t.equal(pod.logger.messages('warn').length, 1, 'one warning, then debug lines');
});

t.test('credentials: none outside a cluster without KUBECONFIG', async (t) => {
  t.equal(loadKubeConfig({}), undefined, 'no cluster, no KUBECONFIG: API mode off');
  t.equal(
    loadKubeConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }),
    undefined,
    'no service account token mounted',
  );
});

t.test(
  "the pod's spec comes with its readiness: restart policy and every container's name",
  async (t) => {
    const pod = await setup(t);
    pod.api.restartPolicy = 'OnFailure';
    pod.api.containers = [{ name: 'queue', ready: true }];
    pod.api.initContainers = [{ name: 'proxy', ready: true }];
    let facts: PodFacts | undefined;
    pod.readiness.start((_ready, given) => {
      facts = given;
    });
    await waitFor(() => facts, 'the facts of the listed pod');
    t.same(facts, { restartPolicy: 'OnFailure', containers: ['queue', 'proxy'] });
  },
);

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { FakeKubeApi } from '../helpers/fake-kube-api.ts';
import {
  LONG_RUNNING,
  startContainer,
  tombstoneMatching,
  tombstoneText,
} from '../helpers/kubexit.ts';
import { freePort, TestHttpServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait.ts';

const fast = { KUBEXIT_READY_INTERVAL: '50ms', KUBEXIT_READY_TIMEOUT: '500ms' };

t.test('waits for a TCP listener that opens late (a MinIO gateway)', async (t) => {
  const dir = t.testdir();
  const port = await freePort();
  const main = startContainer(dir, 'job', ['true'], {
    ...fast,
    KUBEXIT_BIRTH_DEPS: `tcp://127.0.0.1:${port}`,
  });
  await main.logged(/waiting for birth dependencies: tcp:\/\/127.0.0.1:\d+/);
  t.notMatch(tombstoneText(dir, 'job'), /Born/, 'not started while nothing listens');
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const ended = await main.finished;
  t.equal(ended.code, 0);
  t.match(ended.stderr, /birth dependency tcp:\/\/127.0.0.1:\d+ is ready \(connected\)/);
});

t.test('waits for an HTTP endpoint that answers 503, then 200 (Istio readiness)', async (t) => {
  const dir = t.testdir();
  const server = new TestHttpServer();
  const base = await server.listen();
  t.teardown(() => server.close());
  server.status = 503;
  const main = startContainer(dir, 'job', ['true'], {
    ...fast,
    KUBEXIT_BIRTH_DEPS: `${base}/healthz/ready`,
  });
  await waitFor(() => server.requests.length >= 2, 'a few 503 answers');
  t.notMatch(tombstoneText(dir, 'job'), /Born/);
  server.status = 200;
  t.equal((await main.finished).code, 0);
});

t.test('waits for a credentials file that appears empty, then filled', async (t) => {
  const dir = t.testdir({ shared: {} });
  const creds = join(dir, 'shared', 'users.txt');
  const main = startContainer(dir, 'app', ['cat', creds], {
    ...fast,
    KUBEXIT_BIRTH_DEPS: `file://${creds}`,
  });
  await main.logged(/waiting for birth dependencies/);
  writeFileSync(creds, '');
  await main.logged(/still waiting|waiting for birth/);
  t.notMatch(tombstoneText(dir, 'app'), /Born/);
  writeFileSync(creds, 'app:token-1\n');
  const ended = await main.finished;
  t.equal(ended.code, 0);
  t.equal(ended.stdout, 'app:token-1\n', 'the app saw the filled file');
});

t.test('waits for a check command to exit 0', async (t) => {
  const dir = t.testdir();
  const flag = join(dir, 'flag');
  const main = startContainer(dir, 'job', ['true'], {
    ...fast,
    KUBEXIT_BIRTH_DEPS: `exec:test -e ${flag}`,
  });
  await main.logged(/waiting for birth dependencies: exec:test -e/);
  writeFileSync(flag, '');
  t.equal((await main.finished).code, 0);
});

t.test("dependents start only after the dependency's own readiness check passes", async (t) => {
  const dir = t.testdir();
  const creds = join(dir, 'creds');
  const sidecar = startContainer(dir, 'refresher', LONG_RUNNING, {
    ...fast,
    KUBEXIT_READY_CHECK: `file://${creds}`,
    KUBEXIT_DEATH_DEPS: 'app',
  });
  await tombstoneMatching(dir, 'refresher', /Readiness: "pending"/);
  const app = startContainer(dir, 'app', ['cat', creds], { KUBEXIT_BIRTH_DEPS: 'refresher' });
  await app.logged(/waiting for birth dependencies: refresher/);
  writeFileSync(creds, 'token\n');
  await tombstoneMatching(dir, 'refresher', /Ready: "/);
  const ended = await app.finished;
  t.equal(ended.code, 0);
  t.equal(ended.stdout, 'token\n');
  t.equal((await sidecar.finished).code, 0, 'and the sidecar ends with the app');
  t.match(sidecar.stderr, /ready: file:\/\/.*creds passed/);
});

t.test(
  "a sidecar behind a self-signed HTTPS endpoint is ready as the kubelet would see it (inject's https+insecure:// with httpHeaders)",
  async (t) => {
    const dir = t.testdir();
    const server = new TestHttpServer({ tls: true });
    const base = await server.listen();
    t.teardown(() => server.close());
    server.status = 503;
    const sidecar = startContainer(dir, 'vault-agent', LONG_RUNNING, {
      ...fast,
      KUBEXIT_READY_CHECK: `${base.replace('https://', 'https+insecure://')}/v1/sys/health`,
      KUBEXIT_READY_CHECK_HEADERS: 'X-Vault-Request: true\nHost: vault.internal',
      KUBEXIT_DEATH_DEPS: 'app',
    });
    const app = startContainer(dir, 'app', ['true'], { KUBEXIT_BIRTH_DEPS: 'vault-agent' });
    await app.logged(/waiting for birth dependencies: vault-agent/);
    await waitFor(() => server.requests.length > 0, 'a check to reach the HTTPS server');
    t.notMatch(tombstoneText(dir, 'app'), /Born/, 'not started while the endpoint answers 503');
    server.status = 200;
    t.equal((await app.finished).code, 0);
    t.equal((await sidecar.finished).code, 0, 'and the sidecar ends with the app');
    t.match(server.headers.at(-1), { 'x-vault-request': 'true', host: 'vault.internal' });
    t.match(sidecar.stderr, /ready: https\+insecure:\/\/127\.0\.0\.1:\d+\/v1\/sys\/health passed/);
  },
);

t.test('the birth timeout names the endpoint and why it is not ready', async (t) => {
  const dir = t.testdir();
  const port = await freePort();
  const main = startContainer(dir, 'job', ['true'], {
    ...fast,
    KUBEXIT_BIRTH_DEPS: `tcp://127.0.0.1:${port}`,
    KUBEXIT_BIRTH_TIMEOUT: '400ms',
  });
  const ended = await main.finished;
  t.equal(ended.code, 1);
  t.match(
    ended.stderr,
    new RegExp(`not ready after 400ms: tcp://127.0.0.1:${port} \\(ECONNREFUSED\\)`),
  );
  t.match(tombstoneText(dir, 'job'), /ExitCode: 1\nReason: "birth-timeout"/);
});

t.test(
  'shutdown URLs are called once with POST after the child exits; the exit code stays the truth',
  async (t) => {
    const dir = t.testdir();
    const proxy = new TestHttpServer();
    const base = await proxy.listen();
    t.teardown(() => proxy.close());
    const ended = await startContainer(dir, 'base', ['sh', '-c', 'exit 4'], {
      KUBEXIT_SHUTDOWN_URLS: `${base}/quitquitquit`,
    }).finished;
    t.equal(ended.code, 4);
    t.same(proxy.requests, [{ method: 'POST', url: '/quitquitquit' }]);
    t.match(ended.stderr, /shutdown call POST http:\/\/127.0.0.1:\d+\/quitquitquit: HTTP 200/);
  },
);

t.test('a hanging or refusing shutdown endpoint does not hang the supervisor', async (t) => {
  const dir = t.testdir();
  const hanging = new TestHttpServer();
  hanging.hang = true;
  const base = await hanging.listen();
  t.teardown(() => hanging.close());
  const refused = `http://127.0.0.1:${await freePort()}/shutdown`;
  const ended = await startContainer(dir, 'base', ['true'], {
    KUBEXIT_SHUTDOWN_URLS: `${base}/quitquitquit,${refused}`,
    KUBEXIT_SHUTDOWN_TIMEOUT: '1s',
  }).finished;
  t.equal(ended.code, 0);
  t.match(
    ended.stderr,
    /POST http:\/\/127.0.0.1:\d+\/shutdown failed after 3 attempts: ECONNREFUSED/,
  );
  t.match(ended.stderr, /shutdown calls still unanswered after 1000ms: exiting anyway/);
});

t.test(
  'API mode: a container the Kubernetes API reports ready satisfies the birth dependency',
  async (t) => {
    const dir = t.testdir();
    const api = new FakeKubeApi('airflow', 'task-pod-1');
    const kubeconfig = await api.kubeconfig(dir);
    t.teardown(() => api.close());
    api.setReady([{ name: 'base', ready: false }], [{ name: 'istio-proxy', ready: false }]);
    const base = startContainer(dir, 'base', ['true'], {
      KUBEXIT_BIRTH_DEPS: 'istio-proxy',
      KUBEXIT_POD_NAME: 'task-pod-1',
      KUBEXIT_NAMESPACE: 'airflow',
      KUBECONFIG: kubeconfig,
    });
    // The Kubernetes client is loaded from the sources first: seconds on a loaded machine.
    await waitFor(() => api.watchCount === 1, 'the pod watch', { timeoutMs: 30_000 });
    t.notMatch(tombstoneText(dir, 'base'), /Born/);
    api.setReady([{ name: 'base', ready: false }], [{ name: 'istio-proxy', ready: true }]);
    t.equal((await base.finished).code, 0);
  },
);

t.test(
  "API mode is kubexit's: a born dependency waits for its readiness in the pod status, across dropped and expired watches",
  async (t) => {
    const dir = t.testdir();
    const api = new FakeKubeApi('default', 'job-pod');
    const kubeconfig = await api.kubeconfig(dir);
    t.teardown(() => api.close());
    api.setReady([
      { name: 'server', ready: false },
      { name: 'client', ready: false },
    ]);
    const server = startContainer(dir, 'server', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'client' });
    await tombstoneMatching(dir, 'server', /Born/);
    const client = startContainer(dir, 'client', ['true'], {
      KUBEXIT_BIRTH_DEPS: 'server',
      KUBEXIT_POD_NAME: 'job-pod',
      KUBEXIT_NAMESPACE: 'default',
      KUBECONFIG: kubeconfig,
    });
    // The Kubernetes client is loaded from the sources first: seconds on a loaded machine.
    await waitFor(() => api.watchCount === 1, 'the pod watch', { timeoutMs: 30_000 });
    api.dropWatches();
    await waitFor(() => api.watchCount === 2 && api.listCount === 2, 'a new list and watch');
    api.expireWatches();
    await waitFor(() => api.listCount === 3 && api.watchCount === 3, 'a fresh list after 410');
    t.notMatch(
      tombstoneText(dir, 'client'),
      /Born/,
      'born but not ready: the client has not started',
    );
    api.setReady([
      { name: 'server', ready: true },
      { name: 'client', ready: false },
    ]);
    t.equal((await client.finished).code, 0, 'ready per the pod status: the client ran');
    t.equal((await server.finished).code, 0);
  },
);

t.test(
  'API mode asked for without credentials is a warning (it silently means tombstones only)',
  async (t) => {
    const dir = t.testdir();
    const server = startContainer(dir, 'server', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'client' });
    await tombstoneMatching(dir, 'server', /Born/);
    const client = await startContainer(dir, 'client', ['true'], {
      KUBEXIT_BIRTH_DEPS: 'server',
      KUBEXIT_POD_NAME: 'job-pod',
      KUBEXIT_NAMESPACE: 'default',
      KUBECONFIG: '',
      KUBERNETES_SERVICE_HOST: '',
    }).finished;
    t.match(client.stderr, /warn: no Kubernetes credentials \(not in a cluster, no KUBECONFIG\)/);
    t.equal(client.code, 0, 'tombstones alone decided');
    t.equal((await server.finished).code, 0);
  },
);

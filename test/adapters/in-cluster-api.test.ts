import { writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { inClusterApi, ownNamespace } from '../../src/adapters/in-cluster-api.ts';
import { SELF_SIGNED } from '../helpers/servers.ts';

t.test(
  "the API server, as a pod's service account reaches it: its CA, its token read each time",
  async (t) => {
    const account = t.testdir({
      token: 'first',
      'ca.crt': SELF_SIGNED.cert.toString(),
      namespace: 'kubexit-system\n',
    });
    const seen: string[] = [];
    const server = createServer(SELF_SIGNED, (request, response) => {
      seen.push(request.headers.authorization ?? '');
      if (request.url === '/version') response.end(JSON.stringify({ major: '1', minor: '31' }));
      else response.writeHead(403).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise((resolve) => server.close(resolve)));
    const env = {
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String((server.address() as AddressInfo).port),
    };
    const api = inClusterApi(env, account);
    if (api === undefined) throw new Error('no API');
    t.same(await api.get('/version', 2000), { major: '1', minor: '31' });
    writeFileSync(join(account, 'token'), 'rotated');
    await t.rejects(
      api.get('/api/v1/namespaces/x/secrets/y', 2000),
      /GET \/api\/v1\/namespaces\/x\/secrets\/y: HTTP 403/,
    );
    t.same(seen, ['Bearer first', 'Bearer rotated'], 'the kubelet rotates the token: read again');
    t.equal(ownNamespace(account), 'kubexit-system');
    t.equal(inClusterApi({}, account), undefined, 'outside a cluster: none');
    t.equal(inClusterApi(env, join(account, 'none')), undefined, 'no service account: none');
    t.equal(ownNamespace(join(account, 'none')), undefined);
  },
);

t.test('an API server that does not answer: an error within the timeout', async (t) => {
  const account = t.testdir({ token: 't', 'ca.crt': SELF_SIGNED.cert.toString() });
  const server = createServer(SELF_SIGNED, () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const env = {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String((server.address() as AddressInfo).port),
  };
  await t.rejects(
    inClusterApi(env, account)?.get('/version', 200) as Promise<unknown>,
    /GET \/version: /,
  );
});

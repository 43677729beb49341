import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { dockerConfigCredentials } from '../../src/adapters/registry/docker-credentials.ts';
import { diskImageCache } from '../../src/adapters/registry/image-cache.ts';
import { parseImageReference } from '../../src/adapters/registry/image-reference.ts';
import {
  type RegistryOptions,
  readImageCommand,
} from '../../src/adapters/registry/registry-client.ts';
import {
  pushImage,
  pushIndex,
  registrySkip,
  startRegistry,
  startTokenIssuer,
} from '../helpers/registry.ts';

const anonymous: RegistryOptions = { credentials: async () => undefined, timeoutMs: 10_000 };

t.test('image references are read as Kubernetes reads them', async (t) => {
  t.match(parseImageReference('nginx'), {
    registry: 'docker.io',
    apiHost: 'registry-1.docker.io',
    repository: 'library/nginx',
    reference: 'latest',
  });
  t.match(parseImageReference('apache/airflow:2.10.5'), {
    repository: 'apache/airflow',
    reference: '2.10.5',
  });
  const digest = `sha256:${'a'.repeat(64)}`;
  t.match(parseImageReference(`ghcr.io/org/app:1@${digest}`), {
    registry: 'ghcr.io',
    apiHost: 'ghcr.io',
    repository: 'org/app',
    reference: digest,
    digest,
  });
  t.match(parseImageReference('localhost:5000/team/app'), {
    registry: 'localhost:5000',
    repository: 'team/app',
  });
  t.throws(() => parseImageReference('App:1'), /App is not a valid repository name/);
  t.throws(() => parseImageReference('app@sha256:zz'), /is not a sha256 digest/);
});

t.test('a real registry, anonymous', { skip: registrySkip() }, async (t) => {
  const dir = t.testdir();
  const registry = await startRegistry(dir, join(dir, 'storage'));
  t.teardown(registry.stop);
  const host = registry.host;
  const web = await pushImage(host, 'demo/web', '1', {
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
  });
  t.same(await readImageCommand(`${host}/demo/web:1`, 'linux/amd64', anonymous), {
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
  });
  t.same(
    await readImageCommand(`${host}/demo/web@${web.digest}`, 'linux/amd64', anonymous),
    { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] },
    'by digest',
  );
  await pushImage(host, 'demo/shell', '1', { entrypoint: null, cmd: ['sh'] });
  t.same(
    await readImageCommand(`${host}/demo/shell:1`, 'linux/amd64', anonymous),
    { entrypoint: [], cmd: ['sh'] },
    'no ENTRYPOINT: an empty one',
  );

  const amd64 = await pushImage(host, 'demo/multi', undefined, {
    entrypoint: ['/amd64'],
    cmd: ['x'],
  });
  const arm64 = await pushImage(host, 'demo/multi', undefined, {
    entrypoint: ['/arm64'],
    cmd: ['y'],
    architecture: 'arm64',
  });
  await pushIndex(host, 'demo/multi', '2', [
    { ...amd64, architecture: 'amd64' },
    { ...arm64, architecture: 'arm64' },
  ]);
  t.same(await readImageCommand(`${host}/demo/multi:2`, 'linux/amd64', anonymous), {
    entrypoint: ['/amd64'],
    cmd: ['x'],
  });
  t.same(
    await readImageCommand(`${host}/demo/multi:2`, 'linux/arm64', anonymous),
    { entrypoint: ['/arm64'], cmd: ['y'] },
    "an image index: the pod's platform",
  );
  await t.rejects(readImageCommand(`${host}/demo/multi:2`, 'linux/s390x', anonymous), {
    reason: 'not-found',
    message: /has no image for linux\/s390x \(it has linux\/amd64, linux\/arm64\)/,
  });
  await t.rejects(readImageCommand(`${host}/demo/none:1`, 'linux/amd64', anonymous), {
    reason: 'not-found',
    message: /has no demo\/none/,
  });
});

t.test(
  'the cache by digest answers without the registry; a tag is always asked',
  { skip: registrySkip() },
  async (t) => {
    const dir = t.testdir();
    const registry = await startRegistry(dir, join(dir, 'storage'));
    const pushed = await pushImage(registry.host, 'demo/cached', '1', {
      entrypoint: ['/app'],
      cmd: [],
    });
    const options = { ...anonymous, cache: diskImageCache(join(dir, 'cache')) };
    const byDigest = `${registry.host}/demo/cached@${pushed.digest}`;
    t.same(await readImageCommand(byDigest, 'linux/amd64', options), {
      entrypoint: ['/app'],
      cmd: [],
    });
    await registry.stop();
    t.same(
      await readImageCommand(byDigest, 'linux/amd64', options),
      { entrypoint: ['/app'], cmd: [] },
      'from the cache, the registry gone',
    );
    await t.rejects(
      readImageCommand(`${registry.host}/demo/cached:1`, 'linux/amd64', options),
      { reason: 'unreachable', message: /can't be reached \(ECONNREFUSED\)/ },
      'a tag may have moved: asked again',
    );
    writeFileSync(join(dir, 'cache', 'garbage.json'), '{');
    const garbage = diskImageCache(join(dir, 'cache'));
    t.equal(await garbage.get('anything'), undefined, 'a miss, not an error');
  },
);

t.test(
  'a real registry with Bearer tokens: anonymous where allowed, the Docker config where not',
  { skip: registrySkip() },
  async (t) => {
    const dir = t.testdir();
    const storage = join(dir, 'storage');
    const open = await startRegistry(dir, storage);
    t.teardown(open.stop);
    await pushImage(open.host, 'public/tool', '1', { entrypoint: ['/tool'], cmd: ['--help'] });
    await pushImage(open.host, 'private/app', '1', { entrypoint: ['/app'], cmd: ['serve'] });
    const issuer = await startTokenIssuer('alice', 's3cret');
    t.teardown(issuer.stop);
    const secured = await startRegistry(dir, storage, { realm: issuer.realm });
    t.teardown(secured.stop);
    const host = secured.host;

    t.same(await readImageCommand(`${host}/public/tool:1`, 'linux/amd64', anonymous), {
      entrypoint: ['/tool'],
      cmd: ['--help'],
    });
    t.same(issuer.requests.at(-1), { scope: 'repository:public/tool:pull', user: undefined });

    await t.rejects(readImageCommand(`${host}/private/app:1`, 'linux/amd64', anonymous), {
      reason: 'unauthorized',
      message: new RegExp(
        `refused access to private/app \\(HTTP 401\\): log in \\(docker login ${host}`,
      ),
    });

    const config = join(dir, 'docker');
    mkdirSync(config);
    const auth = (user: string, password: string) =>
      writeFileSync(
        join(config, 'config.json'),
        JSON.stringify({
          auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
        }),
      );
    auth('alice', 's3cret');
    const withConfig = {
      ...anonymous,
      credentials: dockerConfigCredentials({ DOCKER_CONFIG: config }),
    };
    t.same(await readImageCommand(`${host}/private/app:1`, 'linux/amd64', withConfig), {
      entrypoint: ['/app'],
      cmd: ['serve'],
    });
    t.same(issuer.requests.at(-1), { scope: 'repository:private/app:pull', user: 'alice' });

    auth('alice', 'wrong');
    const wrong = { ...anonymous, credentials: dockerConfigCredentials({ DOCKER_CONFIG: config }) };
    await t.rejects(readImageCommand(`${host}/private/app:1`, 'linux/amd64', wrong), {
      reason: 'unauthorized',
      message: /refused access to private\/app/,
    });
  },
);

t.test('a credential helper of the Docker config is run, without a shell', async (t) => {
  const dir = t.testdir();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const helper = join(bin, 'docker-credential-fake');
  writeFileSync(
    helper,
    '#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = registry.example ] && echo \'{"Username":"bob","Secret":"tok"}\' && exit 0\necho "credentials not found in native keychain"; exit 1\n',
  );
  chmodSync(helper, 0o755);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'fake' }));
  const source = dockerConfigCredentials({ DOCKER_CONFIG: dir, PATH: `${bin}:/usr/bin:/bin` });
  t.same(await source('registry.example'), { username: 'bob', password: 'tok' });
  t.equal(await source('other.example'), undefined, 'nothing for that host: anonymous');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { 'x.example': 'gone' } }));
  const missing = dockerConfigCredentials({ DOCKER_CONFIG: dir, PATH: bin });
  await t.rejects(missing('x.example'), /docker-credential-gone is not on PATH/);
  writeFileSync(join(dir, 'config.json'), '{not json');
  await t.rejects(
    dockerConfigCredentials({ DOCKER_CONFIG: dir })('x'),
    /config\.json is not valid JSON: fix it, or point DOCKER_CONFIG/,
  );
  t.equal(await dockerConfigCredentials({ DOCKER_CONFIG: join(dir, 'none') })('x'), undefined);
});

/** A registry of the test's own that answers what real ones must not: lies, floods, Basic. */
async function fakeRegistry(
  t: Test,
  answer: (
    path: string,
    authorization: string | undefined,
  ) => [number, Record<string, string>, string | Buffer],
): Promise<string> {
  const server = createServer((request, response) => {
    const [status, headers, body] = answer(request.url ?? '', request.headers.authorization);
    response.writeHead(status, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('what a registry answers is not trusted', async (t) => {
  const manifest = JSON.stringify({ config: { digest: `sha256:${'0'.repeat(64)}` } });
  const liar = await fakeRegistry(t, (path) =>
    path.includes('/manifests/')
      ? [200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, manifest]
      : [200, {}, '{"config":{"Entrypoint":["/evil"]}}'],
  );
  await t.rejects(
    readImageCommand(`${liar}/a/b@sha256:${'1'.repeat(64)}`, 'linux/amd64', anonymous),
    {
      reason: 'invalid',
      message: /answered sha256:1+ with a manifest of digest sha256:/,
    },
  );
  await t.rejects(readImageCommand(`${liar}/a/b:1`, 'linux/amd64', anonymous), {
    reason: 'invalid',
    message: /answered blob sha256:0+ with content of digest/,
  });
  const flood = await fakeRegistry(t, () => [200, {}, Buffer.alloc(5 * 1024 * 1024, 32)]);
  await t.rejects(readImageCommand(`${flood}/a/b:1`, 'linux/amd64', anonymous), {
    reason: 'invalid',
    message: /larger than 4 MiB/,
  });
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    silent.closeAllConnections();
    return new Promise((resolve) => silent.close(resolve));
  });
  const port = (silent.address() as AddressInfo).port;
  await t.rejects(
    readImageCommand(`127.0.0.1:${port}/a/b:1`, 'linux/amd64', { ...anonymous, timeoutMs: 300 }),
    { reason: 'unreachable', message: /did not answer within 0\.3 s/ },
  );
});

t.test(
  'a registry asking for Basic authentication gets the Docker config credentials',
  async (t) => {
    const expected = `Basic ${Buffer.from('carol:pw').toString('base64')}`;
    const host = await fakeRegistry(t, (_path, authorization) => {
      if (authorization !== expected) return [401, { 'www-authenticate': 'Basic realm="r"' }, ''];
      return [404, {}, ''];
    });
    await t.rejects(readImageCommand(`${host}/a/b:1`, 'linux/amd64', anonymous), {
      reason: 'unauthorized',
      message: /refused anonymous access/,
    });
    const credentials = async () => ({ username: 'carol', password: 'pw' });
    await t.rejects(
      readImageCommand(`${host}/a/b:1`, 'linux/amd64', { ...anonymous, credentials }),
      {
        reason: 'not-found',
        message: /has no a\/b tag or digest 1/,
      },
    );
  },
);

t.test('a registry on a port fetch refuses is named so, not as a network failure', async (t) => {
  await t.rejects(readImageCommand('127.0.0.1:6000/a/b:1', 'linux/amd64', anonymous), {
    reason: 'unreachable',
    message: /127\.0\.0\.1:6000: Node's fetch refuses this port/,
  });
});

t.test('a blob served from another origin (a CDN) gets no Authorization header', async (t) => {
  const config = Buffer.from('{"config":{"Entrypoint":["/cdn"],"Cmd":null}}');
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const seenByCdn: Array<string | undefined> = [];
  const cdn = await fakeRegistry(t, (_path, authorization) => {
    seenByCdn.push(authorization);
    return [200, {}, config];
  });
  const expected = `Basic ${Buffer.from('carol:pw').toString('base64')}`;
  const host = await fakeRegistry(t, (path, authorization) => {
    if (authorization !== expected) return [401, { 'www-authenticate': 'Basic realm="r"' }, ''];
    if (path.includes('/manifests/'))
      return [
        200,
        { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        JSON.stringify({ config: { digest } }),
      ];
    return [307, { location: `http://${cdn}/blob` }, ''];
  });
  const credentials = async () => ({ username: 'carol', password: 'pw' });
  t.same(await readImageCommand(`${host}/a/b:1`, 'linux/amd64', { ...anonymous, credentials }), {
    entrypoint: ['/cdn'],
    cmd: [],
  });
  t.same(seenByCdn, [undefined], 'the credentials stay with the registry');
});

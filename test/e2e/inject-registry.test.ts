import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { binCommand } from '../helpers/kubexit.ts';
import { pushImage, registrySkip, startRegistry } from '../helpers/registry.ts';

/** `kubexit inject` run as users run it, without blocking this process (a registry runs here). */
function inject(
  args: readonly string[],
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [command, ...prefix] = binCommand();
  const child = spawn(command as string, [...prefix, 'inject', ...args], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const job = (image: string, extra = '') =>
  [
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata: { name: nightly }',
    'spec:',
    '  template:',
    '    metadata: { annotations: { kubexit.io/sidecars: proxy } }',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    `        - name: app`,
    `          image: ${image}`,
    ...(extra === '' ? [] : [extra]),
    '        - name: proxy',
    '          image: registry.example/proxy:1',
    '          command: [proxy]',
    '',
  ].join('\n');

t.test(
  "a container without command runs its image's ENTRYPOINT and CMD, read from the registry",
  { skip: registrySkip() },
  async (t) => {
    const dir = t.testdir();
    const registry = await startRegistry(dir, join(dir, 'storage'));
    t.teardown(registry.stop);
    await pushImage(registry.host, 'team/app', '3', {
      entrypoint: ['/usr/bin/dumb-init', '--', '/entrypoint'],
      cmd: ['serve', '--port=80'],
    });
    const env = { XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'docker') };
    const result = await inject([], job(`${registry.host}/team/app:3`), env);
    t.equal(result.code, 0, result.stderr);
    const app = parse(result.stdout).spec.template.spec.containers[0];
    t.same(app.command, ['/kubexit/kubexit', '/usr/bin/dumb-init', '--', '/entrypoint']);
    t.same(app.args, ['serve', '--port=80'], "the image's CMD, which a command would drop");
    const withArgs = await inject(
      [],
      job(`${registry.host}/team/app:3`, '          args: [migrate]'),
      env,
    );
    const own = parse(withArgs.stdout).spec.template.spec.containers[0];
    t.same(own.args, ['migrate'], 'its own args kept');
    t.equal((await inject([], result.stdout, env)).stdout, result.stdout, 'idempotent');
  },
);

t.test(
  'a registry that cannot be reached: exit 2, one error naming each container, its image and the flags',
  async (t) => {
    const env = { XDG_CACHE_HOME: join(t.testdir(), 'cache') };
    const closed = `127.0.0.1:${await closedPort()}`;
    const result = await inject([], job(`${closed}/team/app:3`), env);
    t.equal(result.code, 2);
    t.match(
      result.stderr,
      `document 1 (Job nightly): container app (image ${closed}/team/app:3): ${closed} can't be reached (ECONNREFUSED)`,
    );
    t.match(
      result.stderr,
      /--entrypoint 'app=\["\/path\/to\/program", …\]' --cmd 'app=\[…\]', or --no-registry/,
    );
    t.equal(result.stdout, '', 'nothing half-written');
    const given = await inject(
      ['--entrypoint', 'app=["/app"]', '--cmd', 'app=[]'],
      job(`${closed}/team/app:3`),
      env,
    );
    t.equal(given.code, 0, 'the flags avoid the lookup');
    t.same(parse(given.stdout).spec.template.spec.containers[0].command, [
      '/kubexit/kubexit',
      '/app',
    ]);
    const offline = await inject(['--no-registry'], job(`${closed}/team/app:3`), env);
    t.equal(offline.code, 2);
    t.match(offline.stderr, /container app has no command.*without --no-registry/);
  },
);

/** A loopback port nothing listens on (one fetch allows: not one browsers block). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('credentials in a real manifest come out of the CLI as they went in', async (t) => {
  const rabbit = readFileSync(
    new URL('../inject/corpus/kubernetes-website/rabbitmq-job.yaml', import.meta.url),
    'utf8',
  );
  const env = { XDG_CACHE_HOME: join(t.testdir(), 'cache') };
  const result = await inject(['--entrypoint', 'c=["/worker"]', '--cmd', 'c=[]'], rabbit, env);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, '          value: amqp://guest:guest@rabbitmq-service:5672\n');
});

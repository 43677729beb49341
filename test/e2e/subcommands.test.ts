import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { binCommand, Container, KUBEXIT_BIN, startContainer } from '../helpers/kubexit.ts';

const fromSource = KUBEXIT_BIN.endsWith('.js');

/** `kubexit inject <args>` with `input` on stdin (none: an empty stdin, as docker run without -i). */
function inject(args: readonly string[], input?: string) {
  const [command, ...prefix] = binCommand();
  return spawnSync(command as string, [...prefix, 'inject', ...args], {
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
}

t.test("status prints the pod's tombstones as a table and as JSON", async (t) => {
  const graveyard = t.testdir();
  await startContainer(graveyard, 'main', ['sh', '-c', 'exit 3']).finished;
  const table = await new Container(['status', '--graveyard', graveyard], {}).finished;
  t.equal(table.code, 0);
  t.match(
    table.stdout,
    /^NAME\s+STATE\s+BORN\s+READY\s+DIED\s+EXIT\s+REASON\s+AGE\nmain\s+dead\s+\S+\s+\S+\s+\S+\s+3\s+exited\s+\d+s\n$/,
  );
  const json = await new Container(['status', '--json'], { KUBEXIT_GRAVEYARD: graveyard }).finished;
  t.match(JSON.parse(json.stdout), [
    { name: 'main', state: 'dead', exitCode: 3, reason: 'exited' },
  ]);
});

t.test(
  'status on a missing graveyard exits 2 (as the supervisor does) naming the fix',
  async (t) => {
    const ended = await new Container(['status', '--graveyard', '/nonexistent/graveyard'], {})
      .finished;
    t.equal(ended.code, 2);
    t.match(
      ended.stderr,
      /could not read the graveyard \/nonexistent\/graveyard \(ENOENT\): pass --graveyard or set KUBEXIT_GRAVEYARD/,
    );
  },
);

t.test(
  'install from the sources refuses and says how to build',
  { skip: fromSource ? false : 'runs only from the sources' },
  async (t) => {
    const ended = await new Container(['install', t.testdir()], {}).finished;
    t.equal(ended.code, 2);
    t.match(ended.stderr, /npm run build/);
  },
);

t.test(
  'the built executable installs itself',
  { skip: fromSource ? 'runs only against a built executable' : false },
  async (t) => {
    const target = join(t.testdir(), 'kubexit');
    const ended = await new Container(['install', target], {}).finished;
    t.equal(ended.code, 0, ended.stderr);
    t.ok(existsSync(join(target, 'kubexit')));
    t.same(readdirSync(target).sort(), ['kubexit', 'lib']);
  },
);

t.test('install without a directory is a usage error', async (t) => {
  const ended = await new Container(['install'], {}).finished;
  t.equal(ended.code, 2);
  t.match(ended.stderr, /missing required argument 'dir'/);
});

t.test(
  '"kubexit -- install" supervises a program called install, not the subcommand',
  async (t) => {
    const graveyard = t.testdir();
    const ended = await startContainer(graveyard, 'main', ['--', 'install', '--version']).finished;
    t.equal(ended.code, 0);
    t.match(ended.stdout, /install \(GNU coreutils\)/);
    t.match(ended.stderr, /started install/);
  },
);

t.test(
  'kubexit inject: files or stdin to stdout, --diff, and clear errors with exit 2',
  async (t) => {
    const run = inject;
    const plain = new URL('../inject/client-server-job.yaml', import.meta.url).pathname;
    const golden = readFileSync(
      new URL('../inject/client-server-job.injected.yaml', import.meta.url),
      'utf8',
    );
    const fromFile = run(['--sidecar', 'server', plain]);
    t.equal(fromFile.status, 0, fromFile.stderr);
    t.equal(fromFile.stdout, golden);
    const fromStdin = run(['--sidecar', 'server'], readFileSync(plain, 'utf8'));
    t.equal(fromStdin.stdout, golden, 'stdin');
    const diff = run(['--sidecar', 'server', '--diff', plain]);
    t.equal(diff.status, 1, '--diff exits 1 when something would change');
    t.match(diff.stdout, /^\+\s+command: \[\/kubexit\/kubexit, curl/m);
    t.match(diff.stdout, /^-\s+command: \[curl/m);
    const injected = join(t.testdir(), 'injected.yaml');
    writeFileSync(injected, golden);
    const none = run(['--sidecar', 'server', '--diff', injected]);
    t.same([none.status, none.stdout], [0, ''], '--diff: nothing to change, exit 0, no output');
    const json = run(
      ['--sidecar', 'server'],
      `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [parse(readFileSync(plain, 'utf8'))] }, null, 2)}\n`,
    );
    t.equal(json.status, 0, json.stderr);
    const list = JSON.parse(json.stdout);
    t.equal(list.kind, 'List', 'a JSON List in, a JSON List out');
    t.equal(list.items[0].spec.template.spec.containers[0].command[0], '/kubexit/kubexit');
    const single = run(
      [],
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x, command: [a]}]\n',
    );
    t.equal(single.status, 0);
    t.equal(
      single.stdout,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x, command: [a]}]\n',
      'a pod that gains nothing is left as it is',
    );
    t.match(
      single.stderr,
      /^kubexit inject: note: document 1 \(Pod p\): left as it is, kubexit would change nothing: it has one container/,
    );
    const native = run(['--native-sidecars', '--sidecar', 'server', plain]);
    t.equal(native.status, 0, native.stderr);
    t.match(native.stdout, /initContainers:\n\s+- name: server\n.*\n\s+restartPolicy: Always/);
    t.notMatch(native.stdout, /kubexit\/kubexit/, '--native-sidecars: no kubexit at all');
    t.match(native.stderr, /note: .*readinessProbe is now its startupProbe/);
    const imageVolume = run(['--image-volume', '--sidecar', 'server', plain]);
    t.match(imageVolume.stdout, /subPath: opt\/kubexit/);
    t.notMatch(imageVolume.stdout, /kubexit-install/, '--image-volume: no install init container');
    const linkerd = new URL('../inject/linkerd-pod.yaml', import.meta.url).pathname;
    const meshNative = run(['--mesh-native', linkerd]);
    t.equal(meshNative.stdout, readFileSync(linkerd, 'utf8'), '--mesh-native: nothing to gain');
    t.match(meshNative.stderr, /linkerd proxy runs as a native sidecar/);
    const noCommand = join(t.testdir(), 'job.yaml');
    writeFileSync(
      noCommand,
      'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  restartPolicy: Never\n  containers:\n    - { name: app, image: x }\n    - { name: db, image: y, command: [db] }\n',
    );
    for (const [args, message] of [
      [
        ['--mesh', 'consul', plain],
        /--mesh consul is not a mesh kubexit knows: use istio or linkerd/,
      ],
      [['--entrypoint', 'server', plain], /--entrypoint server: no container name or no value/],
      [['--entrypoint', 'app=[1]', plain], /--entrypoint app=\[1\]: not a list of strings/],
      [['--entrypoint', 'app=["a"', plain], /not valid JSON; give NAME=\/path\/to\/program/],
      [['--cmd', 'app=["a"]', plain], /--cmd app=… needs --entrypoint app=… too/],
      [['/nonexistent.yaml'], /could not read \/nonexistent\.yaml \(ENOENT\)/],
      [['--image-volume', '--native-sidecars', plain], /exclude each other/],
      [
        ['--sidecar', 'db', '--no-registry', noCommand],
        /job\.yaml: document 1 \(Pod p\): container app has no command.*--entrypoint 'app=\["\/path/,
      ],
      [
        ['--sidecar', 'db', '--entrypoint', 'app=/bin/app', noCommand],
        /container app has no args, so its image's CMD runs after the ENTRYPOINT.*--cmd 'app=\[\]'/,
      ],
    ] as Array<[string[], RegExp]>) {
      const result = run(args);
      t.equal(result.status, 2, args.join(' '));
      t.match(result.stderr, message);
      t.equal(result.stdout, '', 'nothing half-written to stdout');
    }
  },
);

t.test('status DIR works as --graveyard DIR', async (t) => {
  const graveyard = t.testdir({
    main: 'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:01Z"\nExitCode: 143\nSignal: "SIGTERM"\nReason: "stopped"\n',
  });
  const ended = await new Container(['status', graveyard], {}).finished;
  t.equal(ended.code, 0, ended.stderr);
  t.match(ended.stdout, /main\s+dead\s+.*143 \(SIGTERM\)\s+stopped/);
});

t.test(
  'kubexit inject with nothing on stdin (docker run without -i): exit 2, naming -i',
  async (t) => {
    for (const args of [[], ['-']]) {
      const ended = inject(args);
      t.equal(ended.status, 2, ['inject', ...args].join(' '));
      t.equal(ended.stdout, '');
      t.match(ended.stderr, /standard input is empty.*-i is needed/);
    }
  },
);

t.test('kubexit inject --pod-failure-policy gives a Job the policy, once', async (t) => {
  const run = (input: string) =>
    inject(['--pod-failure-policy', '--sidecar', 'gateway', '-'], input);
  const plain = readFileSync(new URL('../inject/pod-failure-policy.yaml', import.meta.url), 'utf8');
  const once = run(plain);
  t.equal(once.status, 0, once.stderr);
  t.match(once.stdout, /podFailurePolicy:\n {4}rules:\n {6}- action: FailJob/);
  t.match(once.stderr, /note: document 1 \(Job export\): podFailurePolicy added/);
  t.equal(run(once.stdout).stdout, once.stdout, 'a second run changes nothing');
});

t.test(
  "kubexit inject never alters the user's text: connection strings and signed URLs come out as they went in",
  async (t) => {
    const run = inject;
    const configMap = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: db',
      'data:',
      '  url: "postgres://alice:s3cret@db:5432/x" # https://bucket.example/o?sig=abc&token=t',
      '',
    ].join('\n');
    const left = run(['-'], configMap);
    t.equal(left.status, 0, left.stderr);
    t.equal(left.stdout, configMap, 'a document inject leaves is printed byte for byte');
    t.equal(run(['--diff', '-'], configMap).status, 0, '--diff: nothing would change');
    const job = readFileSync(
      new URL('../inject/client-server-job.yaml', import.meta.url),
      'utf8',
    ).replace(
      'command: [curl',
      'env: [{ name: DB, value: "postgres://bob:pw@db/x" }]\n          command: [curl',
    );
    const injected = run(['--sidecar', 'server', '-'], job);
    t.equal(injected.status, 0, injected.stderr);
    t.match(
      injected.stdout,
      'postgres://bob:pw@db/x',
      'a wrapped container keeps its secret values',
    );
  },
);

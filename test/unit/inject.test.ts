import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { injectedExample, plainExamples, TRY_IT_POD, tryItPod } from '../../scripts/examples.ts';
import { imagesNeeded, inject } from '../../src/commands/inject/inject.ts';
import type { InjectOptions } from '../../src/commands/inject/plan.ts';
import { injectChecked, podSpecs } from '../helpers/inject-checks.ts';
import { restrictedViolations } from '../helpers/pss.ts';

const DIR = fileURLToPath(new URL('../inject/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const IMAGE = 'ghcr.io/kubexit/kubexit:0.1.0';

const options = (extra: Partial<InjectOptions> = {}): InjectOptions => ({
  sidecars: [],
  entrypoints: new Map(),
  image: IMAGE,
  ...extra,
});

/**
 * Input file → the options it is injected with. Expected: <name>.injected.<ext>, byte for byte,
 * and what inject said on stderr, <name>.notices (UPDATE_GOLDEN=1 records them again).
 */
const CASES: Record<string, InjectOptions> = {
  'client-server-job.yaml': options({ sidecars: ['server'] }),
  'istio-cronjob.yaml': options(),
  'multi-document.yaml': options({
    sidecars: ['metrics'],
    entrypoints: new Map([['load', { entrypoint: ['/usr/local/bin/load'] }]]),
  }),
  'linkerd-pod.yaml': options(),
  'https-probe.yaml': options(),
  'kubectl-list.yaml': options(),
  'kubectl-list.json': options(),
  'job.json': options(),
  'flow-style.yaml': options(),
  'restart-policies.yaml': options(),
  'memory-limits.yaml': options(),
  'nothing-to-gain.yaml': options(),
  'image-volume.yaml': options({ imageVolume: true }),
  'native-sidecars.yaml': options({ nativeSidecars: true }),
  'mesh-native.yaml': options({ mesh: 'linkerd', meshNative: true }),
  'pod-failure-policy.yaml': options({ sidecars: ['gateway'], podFailurePolicy: true }),
  'last-key-volume-mounts.yaml': options({ sidecars: ['logshipper'] }),
  'sidecar-flag-native.yaml': options({ sidecars: ['logshipper'], nativeSidecars: true }),
  'custom-resources.yaml': options({ sidecars: ['gateway'] }),
  'startup-probe-first.yaml': options(),
  'mesh-proxies-present.yaml': options({ sidecars: ['cache'] }),
  'original-kubexit-client-server.yaml': options(),
  'original-kubexit-cloudsql.yaml': options(),
  'uninvolved-sidecar.yaml': options(),
  'image-commands.yaml': options({
    entrypoints: new Map([
      ['airflow', { entrypoint: ['/usr/bin/dumb-init', '--', '/entrypoint'], cmd: ['--help'] }],
      ['web', { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] }],
      ['shell', { entrypoint: [], cmd: ['sh'] }],
    ]),
    images: new Map([
      [
        'registry.example/db-proxy:2 linux/amd64',
        { entrypoint: ['/db-proxy'], cmd: ['--port=5432'] },
      ],
    ]),
  }),
};

/** Manifests of the original kubexit, whose installer's image inject replaces. */
const MIGRATED = new Set(['original-kubexit-client-server.yaml']);

for (const [name, settings] of Object.entries(CASES)) {
  t.test(`${name}: as recorded (output and notices), valid, idempotent`, async (t) => {
    const input = readFileSync(join(DIR, name), 'utf8');
    const notices: string[] = [];
    const output = inject(input, settings, (kind, message) => notices.push(`${kind}: ${message}`));
    const golden = join(DIR, name.replace(/\.(yaml|json)$/, '.injected.$1'));
    const noticesFile = join(DIR, name.replace(/\.(yaml|json)$/, '.notices'));
    const said = notices.map((line) => `${line}\n`).join('');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) {
      writeFileSync(golden, output);
      writeFileSync(noticesFile, said);
    }
    t.equal(output, readFileSync(golden, 'utf8'), 'the recorded output, byte for byte');
    t.equal(said, readFileSync(noticesFile, 'utf8'), 'the recorded notices');
    if (name.endsWith('.json')) t.doesNotThrow(() => JSON.parse(output), 'JSON in, JSON out');
    // A migrated installer's image is the one line inject replaces.
    const exempt = (line: string) => MIGRATED.has(name) && /^\s*image: /.test(line);
    t.same(
      injectChecked(input, settings, exempt).problems,
      [],
      'idempotent, lines kept, valid, wired, same as its JSON Patch',
    );
  });
}

t.test("the try-it Pod for Podman is the try-it Job's pod template", async (t) => {
  t.equal(
    readFileSync(join(EXAMPLES, TRY_IT_POD), 'utf8'),
    tryItPod(),
    `examples/${TRY_IT_POD} (npm run examples makes it again)`,
  );
});

t.test('the examples are the plain manifests, injected', async (t) => {
  for (const name of plainExamples()) {
    t.equal(
      readFileSync(join(EXAMPLES, name), 'utf8'),
      injectedExample(name),
      `examples/${name} (npm run examples makes it again)`,
    );
    const plain = readFileSync(join(EXAMPLES, 'plain', name), 'utf8');
    const injected = inject(plain, options());
    t.equal(inject(injected, options()), injected, `${name}: idempotent`);
    const before = podSpecs(plain).every((spec) => restrictedViolations(spec).length === 0);
    if (before)
      for (const spec of podSpecs(injected))
        t.same(restrictedViolations(spec), [], `${name}: still passes the restricted standard`);
  }
});

t.test(
  'roles: mains wait for sidecars that have readiness; sidecars end with all mains',
  async (t) => {
    const output = inject(
      readFileSync(join(DIR, 'multi-document.yaml'), 'utf8'),
      CASES['multi-document.yaml'] as InjectOptions,
    );
    const [spec] = podSpecs(output);
    if (spec === undefined) throw new Error('no pod');
    const containers = spec.containers as unknown as Array<{
      name: string;
      env?: Array<{ name: string; value: string }>;
    }>;
    const env = (container: string) =>
      Object.fromEntries(
        (containers.find((c) => c.name === container)?.env ?? []).map((e) => [e.name, e.value]),
      );
    t.match(env('extract'), { KUBEXIT_NAME: 'extract', KUBEXIT_BIRTH_DEPS: 'metrics' });
    t.match(env('load'), { KUBEXIT_NAME: 'load', KUBEXIT_BIRTH_DEPS: 'metrics' });
    t.match(env('metrics'), {
      KUBEXIT_READY_CHECK: 'exec:["statsd-check","--quiet"]',
      KUBEXIT_DEATH_DEPS: 'extract,load',
      KUBEXIT_DEATH_DEPS_POLICY: 'all',
    });
    t.match(
      output,
      /kind: ConfigMap\nmetadata:\n {2}name: settings\ndata:\n {2}mode: batch\n/,
      'others untouched',
    );
  },
);

t.test('every error stops with exit 2 and names the fix', async (t) => {
  const job = (containers: string) =>
    `apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n${containers}`;
  const cases: Array<[string, InjectOptions, RegExp]> = [
    [
      job('        - { name: app, image: x }\n        - { name: db, image: y, command: [b] }\n'),
      options({ sidecars: ['db'] }),
      /container app has no command.*--entrypoint 'app=\["\/path\/to\/program", …\]' --cmd 'app=\[…\]'/,
    ],
    [
      job('        - { name: app, image: x, command: [a] }\n'),
      options({ sidecars: ['ghost'] }),
      /--sidecar ghost: no such container/,
    ],
    [
      job('        - { name: app, image: x, command: [a] }\n'),
      options({ sidecars: ['app'] }),
      /every container is a sidecar \(app\)/,
    ],
    [
      job(
        '        - { name: app, image: x, command: [a] }\n        - name: db\n          image: y\n          command: [b]\n          readinessProbe: { tcpSocket: { port: sql } }\n',
      ),
      options({ sidecars: ['db'] }),
      /readinessProbe of db names port "sql", which none of its ports is called/,
    ],
    ['kind: [unclosed\n', options(), /document 1 is not valid YAML/],
    [
      job('        - { name: app, image: x, command: [a] }\n'),
      options({ entrypoints: new Map([['nope', { entrypoint: ['/x'] }]]) }),
      /--entrypoint nope: no such container/,
    ],
  ];
  for (const [input, settings, message] of cases) {
    t.throws(() => inject(input, settings), { message, exitCode: 2 });
  }
  const annotated = job('        - { name: app, image: x, command: [a] }\n').replace(
    '    spec:\n      restartPolicy',
    '    metadata: { annotations: { kubexit.io/sidecars: "sidecar" } }\n    spec:\n      restartPolicy',
  );
  t.throws(
    () => inject(annotated, options()),
    /kubexit\.io\/sidecars names sidecar, which is not one of its containers/,
  );
});

t.test(
  'a pod whose kubelet restarts failed containers gets KUBEXIT_RESTART_POLICY on every wrapped container',
  async (t) => {
    const job = [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata: {name: retry}',
      'spec:',
      '  template:',
      '    metadata: {annotations: {kubexit.io/sidecars: queue}}',
      '    spec:',
      '      restartPolicy: OnFailure',
      '      containers:',
      '        - {name: main, image: app, command: [app]}',
      '        - {name: queue, image: queue, command: [queue]}',
      '',
    ].join('\n');
    const out = parseAllDocuments(inject(job, options()))[0]?.toJS();
    for (const container of out.spec.template.spec.containers)
      t.same(
        container.env.filter((e: { name: string }) => e.name === 'KUBEXIT_RESTART_POLICY'),
        [{ name: 'KUBEXIT_RESTART_POLICY', value: 'OnFailure' }],
        container.name,
      );
    const never = inject(job.replace('OnFailure', 'Never'), options());
    t.notMatch(never, /KUBEXIT_RESTART_POLICY/, 'Never is the default: nothing to add');
  },
);

t.test(
  "an original kubexit's installer this image can't run: exit 2 naming the init container and the fix",
  async (t) => {
    const plain = readFileSync(join(DIR, 'original-kubexit-client-server.yaml'), 'utf8').replace(
      "command: ['cp', '/bin/kubexit', '/kubexit/kubexit']",
      "command: ['sh', '-c', 'cp /bin/kubexit /kubexit/kubexit']",
    );
    t.throws(() => inject(plain, options()), {
      message:
        /init container kubexit installs the original kubexit with "sh -c cp \/bin\/kubexit \/kubexit\/kubexit".*command: \[cp, \/bin\/kubexit, \/kubexit\/kubexit\]/,
    });
  },
);

t.test(
  'a Job already running kubexit from a shell script gets the podFailurePolicy too',
  async (t) => {
    const plain = readFileSync(join(DIR, 'original-kubexit-client-server.injected.yaml'), 'utf8');
    const notices: string[] = [];
    const output = inject(plain, options({ podFailurePolicy: true }), (_kind, message) =>
      notices.push(message),
    );
    t.match(output, /podFailurePolicy:\n {4}rules:/);
    t.notMatch(notices.join('\n'), /no container of this pod runs kubexit/);
  },
);

t.test(
  "the images inject asks the registry about: containers it wraps that have no command, for their pod's platform",
  async (t) => {
    const pod = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: { name: p, annotations: { kubexit.io/sidecars: "db,logs" } }',
      'spec:',
      '  restartPolicy: Always',
      '  nodeSelector: { kubernetes.io/arch: arm64 }',
      '  containers:',
      '    - { name: app, image: registry.example/app:1 }',
      '    - { name: given, image: registry.example/given:1 }',
      '    - { name: db, image: registry.example/db:1, readinessProbe: { tcpSocket: { port: 5432 } } }',
      '    - { name: logs, image: registry.example/logs:1 }',
      '    - { name: istio-proxy, image: docker.io/istio/proxyv2:1.24.0 }',
      '',
    ].join('\n');
    const settings = options({
      entrypoints: new Map([['given', { entrypoint: ['/g'], cmd: [] }]]),
    });
    t.same(
      imagesNeeded(pod, settings).map((need) => [need.container, need.image, need.platform]),
      [
        ['app', 'registry.example/app:1', 'linux/arm64'],
        ['db', 'registry.example/db:1', 'linux/arm64'],
      ],
      'not the one given by flag, not a sidecar left unwrapped, not a proxy',
    );
    const elsewhere = pod.replace('  nodeSelector: { kubernetes.io/arch: arm64 }\n', '');
    t.same(
      imagesNeeded(elsewhere, options({ platform: 'linux/s390x' })).map((need) => need.platform),
      ['linux/s390x', 'linux/s390x', 'linux/s390x'],
      'no nodeSelector: the --platform given',
    );
  },
);

t.test(
  'kubexit put first in a block list whose first item starts with a dash, kubectl style',
  async (t) => {
    const pod = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: p}',
      'spec:',
      '  restartPolicy: Never',
      '  containers:',
      '  - name: side',
      '    image: s',
      '    command:',
      '    - --verbose',
      '  - {name: app, image: a, command: [a]}',
      '',
    ].join('\n');
    // Reproduced by the generated layouts: the new item went 2 columns right (invalid YAML).
    t.match(
      inject(pod, options({ sidecars: ['side'] })),
      / {4}command:\n {4}- \/kubexit\/kubexit\n {4}- --verbose\n/,
    );
  },
);

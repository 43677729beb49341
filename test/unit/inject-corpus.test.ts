import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { imageKey } from '../../src/commands/inject/images.ts';
import { imagesNeeded, inject } from '../../src/commands/inject/inject.ts';
import type { InjectOptions } from '../../src/commands/inject/plan.ts';
import { injectChecked, podSpecs } from '../helpers/inject-checks.ts';

/**
 * Real public manifests (test/inject/corpus, each one's repository, path and commit in
 * sources.json), injected as users would: without role flags, then with the flags their authors
 * would give (their sidecars named), as native sidecars, and with kubexit as an image volume.
 * Each run: the output parses, no line inject had no reason to touch is lost, a second run with
 * the same flags changes nothing, the schema accepts it, the wiring is sound (test/helpers/
 * inject-checks.ts), and its JSON Patch gives the same object.
 */
const CORPUS = fileURLToPath(new URL('../inject/corpus/', import.meta.url));
const SOURCES = JSON.parse(readFileSync(join(CORPUS, 'sources.json'), 'utf8')) as Record<
  string,
  { repo: string; path: string; commit: string }
>;

/** The sidecars each manifest's authors would name (proxies known by image need no name). */
const SIDECARS: Record<string, string[]> = {
  'kubernetes-website/job-sidecar-legacy.yaml': ['logshipper'],
  'kubexit/e2e-client-server-job.yaml': ['server'],
  'kubexit/e2e-client-server-slow-start-job.yaml': ['server'],
  'kubexit/cloudsql-proxy-job.yaml': ['cloudsql-proxy'],
  'vault-k8s/injector-deployment.yaml': ['leader-elector'],
  'knative-docs/multi-container-service.yaml': [],
};

/** What a registry would answer for an image: made up, but one per image, so that it shows. */
function imageCommands(text: string, options: InjectOptions): InjectOptions {
  const images = new Map(
    imagesNeeded(text, options).map((need) => [
      imageKey(need.image, need.platform),
      { entrypoint: [`/entrypoint-of/${need.image}`], cmd: [`cmd-of-${need.container}`] },
    ]),
  );
  return { ...options, images };
}

const base: InjectOptions = {
  sidecars: [],
  entrypoints: new Map(),
  image: 'ghcr.io/kubexit/kubexit:0.1.0',
};

t.test(
  'the corpus: at least 30 real manifests from at least 8 projects, sources named',
  async (t) => {
    const names = Object.keys(SOURCES);
    t.ok(names.length >= 30, `${names.length} manifests`);
    const projects = new Set(Object.values(SOURCES).map((source) => source.repo));
    t.ok(projects.size >= 8, `${projects.size} projects: ${[...projects].join(', ')}`);
    for (const [name, source] of Object.entries(SOURCES))
      t.match(source, { repo: /^[\w.-]+\/[\w.-]+$/, path: /\S/, commit: /^[0-9a-f]{40}$/ }, name);
  },
);

for (const name of Object.keys(SOURCES)) {
  t.test(`${name}: every run sound`, async (t) => {
    const input = readFileSync(join(CORPUS, name), 'utf8');
    const sidecars = SIDECARS[name] ?? [];
    const runs: Array<[string, InjectOptions]> = [
      ['no role flags', base],
      ['--image-volume', { ...base, imageVolume: true }],
      ...(sidecars.length === 0
        ? []
        : ([
            [`--sidecar ${sidecars.join(',')}`, { ...base, sidecars }],
            [
              `--sidecar ${sidecars.join(',')} --native-sidecars`,
              { ...base, sidecars, nativeSidecars: true },
            ],
          ] as Array<[string, InjectOptions]>)),
    ];
    for (const [label, flags] of runs) {
      // The original's manifests, run again with native sidecars, are refused with the fix.
      if (flags.nativeSidecars === true && /\/kubexit\/kubexit|'kubexit'/.test(input)) {
        t.throws(
          () => inject(input, flags),
          {
            exitCode: 2,
            message: /already runs kubexit; make native sidecars from the manifest without kubexit/,
          },
          `${label}: refused, exit 2`,
        );
        continue;
      }
      const options = imageCommands(input, flags);
      const { problems } = injectChecked(input, options, migratedImage(name));
      t.same(problems, [], label);
    }
  });
}

/** A manifest of the original kubexit: its installer's image is the one line inject replaces. */
function migratedImage(name: string): (line: string) => boolean {
  return (line) => name.startsWith('kubexit/') && /^\s*image: karlkfi\/kubexit/.test(line);
}

t.test('what the corpus shows inject does with what people have', async (t) => {
  const read = (name: string) => readFileSync(join(CORPUS, name), 'utf8');
  const containersOf = (text: string) => podSpecs(text)[0]?.containers ?? [];
  const env = (text: string, container: string) =>
    Object.fromEntries(
      (containersOf(text).find((c) => c.name === container)?.env ?? []).map((e) => [
        e.name,
        e.value,
      ]),
    );

  const meshed = read('istio/job.yaml.injected.yaml');
  const istio = inject(meshed, base);
  t.same(
    containersOf(istio)
      .find((c) => c.name === 'pi')
      ?.command?.slice(0, 2),
    ['/kubexit/kubexit', 'perl'],
  );
  t.equal(
    containersOf(istio).find((c) => c.name === 'istio-proxy')?.command,
    undefined,
    'the proxy unwrapped',
  );
  t.match(
    env(istio, 'pi'),
    { KUBEXIT_SHUTDOWN_URLS: 'istio' },
    'a regular proxy gets the shutdown call',
  );

  const native = inject(read('linkerd/inject_emojivoto_pod_nativesidecar.golden.yml'), base);
  t.notMatch(native, /KUBEXIT_SHUTDOWN_URLS/, 'no shutdown call to a native proxy');

  const rabbit = inject(
    read('kubernetes-website/rabbitmq-job.yaml'),
    imageCommands(read('kubernetes-website/rabbitmq-job.yaml'), base),
  );
  t.match(
    rabbit,
    'amqp://guest:guest@rabbitmq-service:5672',
    'credentials in the manifest come out as they went in',
  );

  const legacy = read('kubernetes-website/job-sidecar-legacy.yaml');
  const shipped = inject(legacy, { ...base, sidecars: ['logshipper'] });
  t.match(env(shipped, 'logshipper'), { KUBEXIT_DEATH_DEPS: 'myjob' });
  t.ok(
    containersOf(shipped)
      .find((c) => c.name === 'logshipper')
      ?.volumeMounts?.some((m) => m.mountPath === '/kubexit'),
    'mounts under volumeMounts, not env (the defect this manifest showed)',
  );

  const knative = read('knative-docs/multi-container-service.yaml');
  const notes: string[] = [];
  t.equal(
    inject(knative, base, (_kind, message) => notes.push(message)),
    knative,
    'a Knative Service is left as it is',
  );
  t.match(
    notes.join('\n'),
    /serving\.knative\.dev\/v1 Service\): left as it is: its pod template is run by its own platform/,
  );

  const airflow = read('airflow/dags_in_image_template.yaml');
  t.equal(
    inject(airflow, base),
    airflow,
    "Airflow's one-container pod gains nothing: unchanged, CRLF and all",
  );
});

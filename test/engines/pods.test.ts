import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments, stringify } from 'yaml';
import { IMAGE_PATH, Podman, ROOT, RUN_ID, testsWith } from '../helpers/engines.ts';
import { standIns } from '../helpers/stand-in-images.ts';
import { waitFor } from '../helpers/wait.ts';

/*
 * The examples' pods under `podman kube play`: real runc containers, each with its own PID 1, the
 * manifests' securityContext (runAsUser 65532, every capability dropped, no privilege escalation,
 * the default seccomp profile) and emptyDir volumes; kubexit installed by the init container from
 * the image the Dockerfile builds. A Job's pod template becomes a Pod, as the Job controller makes
 * one. The other images are stand-ins: a static busybox and a script at the path the manifest runs.
 */

const { engine, available, test } = testsWith(Podman.find());
const KUBEXIT_IMAGE = 'ghcr.io/kubexit/kubexit:0.1.0';

type Json = Record<string, unknown>;
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value: string }[];
  ports?: unknown;
  volumeMounts?: { name: string }[];
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string }[];
}

if (available) {
  t.before(async () => {
    await engine.buildKubexit(KUBEXIT_IMAGE);
    for (const [name, image] of Object.entries(standIns())) {
      const changes = [
        `ENV ${IMAGE_PATH}`,
        ...(image.cmd ? [`CMD ${JSON.stringify(image.cmd)}`] : []),
      ];
      await engine.importTree(image.rootfs().dir, name, changes);
    }
  });
}

/** The first Pod, Job or CronJob of an example file. */
function workload(file: string): Json {
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((d) => d.toJS());
  return docs.find((doc) => ['Pod', 'Job', 'CronJob'].includes(doc.kind));
}

/**
 * The pod the controller would make of a workload, for Podman: named `name`; volumes renamed per
 * pod (Podman names an emptyDir after its volume, so two pods would share one); no ports (Podman
 * publishes a containerPort on the host, so a second pod could not start).
 */
function podOf(doc: Json, name: string): Json & { spec: PodSpec } {
  const spec = doc.spec as Json;
  const template = (
    doc.kind === 'Pod'
      ? doc
      : doc.kind === 'Job'
        ? spec.template
        : ((spec.jobTemplate as Json).spec as Json).template
  ) as Json;
  const podSpec = structuredClone(template.spec) as PodSpec;
  const containers = [...(podSpec.initContainers ?? []), ...podSpec.containers];
  for (const volume of podSpec.volumes ?? []) volume.name = `${name}-${volume.name}`;
  for (const container of containers) {
    delete container.ports;
    for (const mount of container.volumeMounts ?? []) mount.name = `${name}-${mount.name}`;
  }
  const metadata = template.metadata as Json | undefined;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, name }, spec: podSpec };
}

interface Ended {
  code: number;
  logs: string;
}

/**
 * Plays a pod and waits for every container to end (with a deadline): each one's exit code and
 * logs. Played from an empty directory: a file there named like an image would be taken for it.
 */
async function play(pod: Json & { metadata?: unknown }): Promise<Record<string, Ended>> {
  const dir = mkdtempSync(join(tmpdir(), 'kubexit-play-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { name } = pod.metadata as { name: string };
  writeFileSync(join(dir, 'pod.yaml'), stringify(pod));
  await engine.podmanOk(['kube', 'play', 'pod.yaml'], { cwd: dir });
  const names = (pod.spec as PodSpec).containers.map((container) => container.name);
  const ended: Record<string, Ended> = {};
  await Promise.all(
    names.map(async (container) => {
      const code = await engine.podmanOk(['wait', `${name}-${container}`], { timeoutMs: 60_000 });
      const logs = await engine.podman(['logs', `${name}-${container}`]);
      ended[container] = { code: Number(code), logs: logs.stdout + logs.stderr };
    }),
  );
  return ended;
}

function setEnv(container: Container, name: string, value: string): void {
  container.env = [...(container.env ?? []), { name, value }];
}

test('queue-sidecar-job: the forwarder succeeds, the queue is stopped, both exit 0', async (t) => {
  const ended = await play(podOf(workload('examples/queue-sidecar-job.yaml'), `${RUN_ID}-q0`));
  t.equal(ended.forwarder?.code, 0, 'forwarder exits 0', { logs: ended.forwarder?.logs });
  t.equal(ended.queue?.code, 0, 'queue exits 0', { logs: ended.queue?.logs });
  t.match(ended.queue?.logs, /death dependency "forwarder" \(exit 0\) died/);
});

test('two queue pods side by side: each pod has its own graveyard and its own truth', async (t) => {
  const job = workload('examples/queue-sidecar-job.yaml');
  const fails = podOf(job, `${RUN_ID}-q3`);
  setEnv(
    fails.spec.containers.find((c) => c.name === 'forwarder') as Container,
    'FORWARDER_EXIT',
    '3',
  );
  const [ok, failed] = await Promise.all([play(podOf(job, `${RUN_ID}-qa`)), play(fails)]);
  t.equal(ok.forwarder?.code, 0, 'forwarder exits 0', { logs: ok.forwarder?.logs });
  t.equal(ok.queue?.code, 0, 'queue exits 0', { logs: ok.queue?.logs });
  t.match(ok.queue?.logs, /"forwarder" \(exit 0\) died/, 'saw its own forwarder');
  t.equal(failed.forwarder?.code, 3, 'a failing forwarder fails its pod with its code');
  t.equal(failed.queue?.code, 0, 'queue exits 0', { logs: failed.queue?.logs });
  t.match(failed.queue?.logs, /"forwarder" \(exit 3\) died/, 'saw its own forwarder');
});

test('storage-gateway-pod: the job starts once the gateway accepts connections; both exit 0', async (t) => {
  // The Secret the gateway's credentials come from, as a cluster would hold it: Podman 4 reads
  // a secretKeyRef from a secret of its own holding the Secret's data (JSON, values in base64).
  const data = { 'client-email': 'exporter@example.iam', 'private-key': 'not-a-key' };
  const encoded = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  const file = join(engine.home, 'gcs-service-account.json');
  writeFileSync(file, JSON.stringify(encoded));
  await engine.podmanOk(['secret', 'create', 'gcs-service-account', file]);
  const pod = podOf(workload('examples/storage-gateway-pod.yaml'), `${RUN_ID}-sg`);
  const ended = await play(pod);
  t.equal(ended.base?.code, 0, 'base exits 0', { logs: ended.base?.logs });
  t.match(ended.base?.logs, /exported/, 'the gateway was serving when the job ran');
  t.equal(ended.gateway?.code, 0, 'gateway exits 0', { logs: ended.gateway?.logs });
});

test('try-it-pod (the try-it Job as Podman runs it): fetch waits for nginx to answer, nginx is stopped, the pod completes', async (t) => {
  const ended = await play(podOf(workload('examples/try-it-pod.yaml'), `${RUN_ID}-try`));
  t.equal(ended.fetch?.code, 0, 'fetch exits 0', { logs: ended.fetch?.logs });
  t.match(ended.fetch?.logs, /<title>Welcome to nginx!<\/title>/, 'nginx was ready when fetch ran');
  t.equal(ended.web?.code, 0, 'web exits 0', { logs: ended.web?.logs });
  t.match(ended.web?.logs, /death dependency "fetch" \(exit 0\) died/);
});

test('credentials-sidecar-job: the app reads the first credentials, the refresher ends with it', async (t) => {
  const ended = await play(
    podOf(workload('examples/credentials-sidecar-job.yaml'), `${RUN_ID}-cr`),
  );
  t.equal(ended.app?.code, 0, 'app exits 0', { logs: ended.app?.logs });
  t.match(ended.app?.logs, /app:token-1/);
  t.equal(ended['token-refresher']?.code, 0, 'token-refresher exits 0', {
    logs: ended['token-refresher']?.logs,
  });
});

test('istio-job: the task waits for the injected proxy, then asks it to quit; all exit 0', async (t) => {
  const pod = podOf(workload('examples/istio-job.yaml'), `${RUN_ID}-is`);
  // What Istio's injection webhook adds: a proxy container kubexit does not wrap.
  pod.spec.containers.push({
    name: 'istio-proxy',
    image: 'istio/proxyv2:emulated',
    command: ['pilot-agent'],
  });
  const ended = await play(pod);
  t.equal(ended.base?.code, 0, 'base exits 0', { logs: ended.base?.logs });
  t.match(ended.base?.logs, /task export done/);
  t.match(ended.base?.logs, /shutdown call POST http:\/\/127.0.0.1:15020\/quitquitquit: HTTP 200/);
  t.equal(ended['istio-proxy']?.code, 0, 'the proxy quit when asked');
});

test('the Jobs of the kind workflow: one pod completes, one fails with its main container code', async (t) => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'test/kind/jobs.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .filter((doc) => doc.kind === 'Job');
  const [ok, fail] = await Promise.all(
    docs.map((doc, i) => play(podOf(doc, `${RUN_ID}-kind${i}`))),
  );
  t.equal(ok?.forwarder?.code, 0, 'forwarder exits 0', { logs: ok?.forwarder?.logs });
  t.equal(ok?.queue?.code, 0, 'queue exits 0', { logs: ok?.queue?.logs });
  t.equal(fail?.forwarder?.code, 3, 'forwarder exits 3', { logs: fail?.forwarder?.logs });
  t.equal(fail?.queue?.code, 0, 'queue exits 0', { logs: fail?.queue?.logs });
});

test('kubexit is PID 1 of its container and reaps orphans: no zombie is left', async (t) => {
  const pod = podOf(workload('test/kind/jobs.yaml'), `${RUN_ID}-pid1`);
  const queue = pod.spec.containers.find((c) => c.name === 'queue') as Container;
  // An orphan: the subshell's parent exits at once, so it is handed to PID 1; when it ends, only
  // PID 1 can reap it. It leaves a file when it is about to end.
  queue.command = [
    '/kubexit/kubexit',
    'sh',
    '-c',
    '(sh -c "sleep 0.3; touch /tmp/orphan-ending" &); echo ok > /tmp/ready; trap "exit 0" TERM; while :; do sleep 1 & wait; done',
  ];
  const forwarder = pod.spec.containers.find((c) => c.name === 'forwarder') as Container;
  // The forwarder runs until the test has looked inside the queue's container.
  forwarder.command = [
    '/kubexit/kubexit',
    'sh',
    '-c',
    'while [ ! -e /graveyard/seen ]; do sleep 0.1; done',
  ];
  const name = `${RUN_ID}-pid1-queue`;
  const played = play(pod);
  const exec = (script: string) => engine.podman(['exec', name, 'sh', '-c', script]);
  await waitFor(
    async () => (await exec('test -e /tmp/orphan-ending')).code === 0,
    'the orphan to end',
    {
      timeoutMs: 30_000,
      intervalMs: 100,
    },
  );
  const comm = await exec('cat /proc/1/comm');
  t.equal(comm.stdout.trim(), 'kubexit', 'PID 1 is kubexit');
  // Every process's state: the third field of /proc/PID/stat (Z for a zombie).
  const states = async () =>
    (await exec('for s in /proc/[0-9]*/stat; do cat "$s"; echo; done')).stdout
      .split('\n')
      .filter((line) => line.includes(') '));
  await waitFor(async () => !(await states()).some((line) => / Z /.test(line)), 'no zombie', {
    timeoutMs: 5_000,
    intervalMs: 100,
  }).catch(async (error) => {
    t.fail(`${error.message}:\n${(await states()).join('\n')}`);
  });
  await exec('touch /graveyard/seen');
  const ended = await played;
  t.equal(ended.forwarder?.code, 0, 'forwarder exits 0', { logs: ended.forwarder?.logs });
  t.equal(ended.queue?.code, 0, 'queue exits 0', { logs: ended.queue?.logs });
});

test("a Job written with no kubexit, wired by the webhook at admission, ends with its main container's status", async (t) => {
  const { RunningWebhook, admissionReview, call, patchOf } = await import('../helpers/webhook.ts');
  const { default: jsonPatch } = await import('fast-json-patch');
  const webhook = await new RunningWebhook([
    '--kubernetes-version',
    '1.28',
    '--image',
    KUBEXIT_IMAGE,
  ]).started();
  t.teardown(() => webhook.stop());
  // The kind workflow's Job (test/kind/webhook-jobs.yaml), as the Job controller asks for its pod.
  const docs = parseAllDocuments(
    readFileSync(join(ROOT, 'test/kind/webhook-jobs.yaml'), 'utf8'),
  ).map((d) => d.toJS());
  const job = docs.find((doc) => doc.metadata?.name === 'webhook-wrap-fail');
  const plain = podOf(job, `${RUN_ID}-wh`);
  const answer = await call(
    webhook.port,
    'POST',
    '/mutate',
    admissionReview(plain, { namespace: 'webhook-jobs' }),
  );
  const wired = jsonPatch.applyPatch(structuredClone(plain), patchOf(answer) as never, true, false)
    .newDocument as typeof plain;
  t.ok(
    wired.spec.initContainers?.some((c) => c.name === 'kubexit-install'),
    'kubexit installed by the webhook',
  );
  // Podman names emptyDirs after their volume: the webhook's get the pod's name too.
  const pod = podOf({ kind: 'Pod', metadata: wired.metadata, spec: wired.spec }, `${RUN_ID}-wh`);
  const ended = await play(pod);
  t.equal(ended.forwarder?.code, 3, 'the main container fails the pod with its code', {
    logs: ended.forwarder?.logs,
  });
  t.equal(ended.queue?.code, 0, 'the queue is stopped, exit 0', { logs: ended.queue?.logs });
  t.match(ended.queue?.logs, /death dependency "forwarder" \(exit 3\) died/);
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { RootFs } from '../helpers/chroot-container.ts';
import { IMAGE_TREE } from '../helpers/dist.ts';
import {
  type EmulatedImage,
  type EmulatedPod,
  emulatorSkip,
  podFromCompose,
  podFromManifest,
  runPod,
} from '../helpers/pod-emulator.ts';
import { standIns } from '../helpers/stand-in-images.ts';

/*
 * The examples, run as pods: kubexit is installed by the init container exactly as the manifest
 * says, every image is a root filesystem without libc (a static busybox plus a fake of the
 * program the real image would run), and each container's exit code is asserted.
 */

const KUBEXIT_IMAGE = join(IMAGE_TREE, 'opt', 'kubexit');
const skip = emulatorSkip(join(KUBEXIT_IMAGE, 'kubexit'));

function images(forwarderExit = 0): Record<string, EmulatedImage> {
  const kubexit: EmulatedImage = {
    rootfs: () => new RootFs().copy(KUBEXIT_IMAGE, '/opt/kubexit'),
    entrypoint: ['/opt/kubexit/kubexit'],
    cmd: ['install', '/kubexit'],
  };
  return {
    'ghcr.io/kubexit/kubexit:0.1.0': kubexit,
    'kubexit:local': kubexit,
    ...standIns(forwarderExit),
  };
}

function manifestPod(file: string): EmulatedPod {
  const docs = parseAllDocuments(
    readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'),
  ).map((d) => d.toJS());
  return podFromManifest(docs.find((d) => d.kind === 'Job' || d.kind === 'Pod'));
}

t.test(
  'queue-sidecar-job: the forwarder succeeds, the queue is stopped, every container exits 0',
  { skip },
  async (t) => {
    const result = await runPod(manifestPod('queue-sidecar-job.yaml'), images());
    t.equal(result.init['kubexit-install']?.code, 0, 'kubexit installed by the init container');
    t.equal(result.containers.forwarder?.code, 0, result.containers.forwarder?.stderr ?? '');
    t.equal(result.containers.queue?.code, 0, result.containers.queue?.stderr ?? '');
    t.match(result.containers.queue?.stderr, /death dependency "forwarder" \(exit 0\) died/);
  },
);

t.test(
  'queue-sidecar-job: a failing forwarder fails the pod with its code; the queue still exits 0',
  { skip },
  async (t) => {
    const result = await runPod(manifestPod('queue-sidecar-job.yaml'), images(3));
    t.equal(result.containers.forwarder?.code, 3);
    t.equal(result.containers.queue?.code, 0);
  },
);

t.test(
  'storage-gateway-pod: the job starts once the gateway accepts connections, and the gateway stops with it',
  { skip },
  async (t) => {
    const result = await runPod(manifestPod('storage-gateway-pod.yaml'), images());
    t.equal(result.containers.base?.code, 0, result.containers.base?.stderr ?? '');
    t.match(result.containers.base?.stdout, /exported/, 'the gateway was serving when the job ran');
    t.equal(result.containers.gateway?.code, 0, result.containers.gateway?.stderr ?? '');
  },
);

t.test(
  'credentials-sidecar-job: the app starts after the first credentials, the refresher ends with it',
  { skip },
  async (t) => {
    const result = await runPod(manifestPod('credentials-sidecar-job.yaml'), images());
    t.equal(result.containers.app?.code, 0, result.containers.app?.stderr ?? '');
    t.equal(result.containers.app?.stdout, 'app:token-1\n');
    t.equal(result.containers['token-refresher']?.code, 0);
  },
);

t.test(
  'istio-job: the task waits for the injected proxy, then asks it to quit; the pod completes',
  { skip },
  async (t) => {
    const pod = manifestPod('istio-job.yaml');
    // What the injection webhook adds: a proxy container that kubexit does not wrap.
    const proxy = {
      name: 'istio-proxy',
      image: 'istio/proxyv2:emulated',
      command: ['pilot-agent'],
      env: {},
      mounts: {},
    };
    const result = await runPod({ ...pod, containers: [...pod.containers, proxy] }, images());
    t.equal(result.containers.base?.code, 0, result.containers.base?.stderr ?? '');
    t.match(result.containers.base?.stdout, /task export done/);
    t.match(
      result.containers.base?.stderr,
      /shutdown call POST http:\/\/127.0.0.1:15020\/quitquitquit: HTTP 200/,
    );
    t.equal(result.containers['istio-proxy']?.code, 0, 'the proxy quit when asked');
    t.match(result.containers['istio-proxy']?.stdout, /^POST \/quitquitquit HTTP\/1.1/);
  },
);

t.test('the docker-compose example runs the same way', { skip }, async (t) => {
  const compose = parse(
    readFileSync(new URL('../../examples/docker-compose/compose.yaml', import.meta.url), 'utf8'),
  );
  const result = await runPod(podFromCompose(compose), images());
  t.equal(result.init.install?.code, 0);
  t.equal(result.containers.forwarder?.code, 0, result.containers.forwarder?.stderr ?? '');
  t.equal(result.containers.queue?.code, 0, result.containers.queue?.stderr ?? '');
});

t.test(
  "the Jobs of the kind workflow: one completes, one fails with its main container's code",
  { skip },
  async (t) => {
    const docs = parseAllDocuments(
      readFileSync(new URL('../kind/jobs.yaml', import.meta.url), 'utf8'),
    ).map((d) => d.toJS());
    const [ok, fail] = await Promise.all(docs.map((doc) => runPod(podFromManifest(doc), images())));
    t.equal(ok?.containers.forwarder?.code, 0);
    t.equal(ok?.containers.queue?.code, 0);
    t.equal(fail?.containers.forwarder?.code, 3);
    t.equal(fail?.containers.queue?.code, 0);
  },
);

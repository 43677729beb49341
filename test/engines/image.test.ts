import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseQuantity } from '../../src/commands/inject/data.ts';
import { INSTALLER_RESOURCES } from '../../src/commands/inject/wiring.ts';
import { IMAGE_TREE } from '../helpers/dist.ts';
import { Docker, ROOT, testsWith } from '../helpers/engines.ts';

/*
 * The kubexit image as the Dockerfile builds it (from dist/, BUNDLE=from-dist), run by Docker:
 * its version, the default install into a fresh named volume, kubexit's own init container
 * (cp /bin/kubexit /kubexit/kubexit), and inject run from the image, as on a laptop without Node.
 */

const { engine, available, test } = testsWith(Docker.find());
let image = '';
let busybox = '';

if (available) {
  t.before(async () => {
    image = await engine.buildKubexit();
    busybox = await engine.busybox();
  });
}

/** `docker run --rm` of this run: the flags, then the image and its arguments. */
function dockerRun(name: string, args: readonly string[], input?: string) {
  return engine.docker(['run', '--rm', ...(input ? ['-i'] : []), ...engine.named(name), ...args], {
    input,
  });
}

test('the image prints the version of package.json', async (t) => {
  const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
  const ran = await dockerRun('version', [image, '--version']);
  t.equal(ran.code, 0, ran.stderr);
  t.equal(ran.stdout.trim(), pkg.version);
});

test('the default install fills a fresh named volume at /kubexit; another image runs kubexit from it', async (t) => {
  const volume = await engine.volume('kubexit');
  const graveyard = await engine.volume('graveyard');
  // No command: the image's own, install /kubexit, as its user (uid 65532).
  const installed = await dockerRun('install', ['-v', `${volume}:/kubexit`, image]);
  t.equal(installed.code, 0, installed.stderr);
  t.match(installed.stdout + installed.stderr, /installed the kubexit portable bundle/);
  const ran = await dockerRun('main', [
    ...['-v', `${volume}:/kubexit:ro`, '-v', `${graveyard}:/graveyard`],
    ...['-e', 'KUBEXIT_NAME=main', busybox, '/kubexit/kubexit', 'sh', '-c', 'exit 7'],
  ]);
  t.equal(ran.code, 7, ran.stderr);
  const tombstone = await dockerRun('read', ['-v', `${graveyard}:/g`, busybox, 'cat', '/g/main']);
  t.match(tombstone.stdout, /ExitCode: 7/);
});

test("the install fits in the resources inject gives its init container (a namespace's LimitRange or quota)", async (t) => {
  const volume = await engine.volume('kubexit-limited');
  const { limits } = INSTALLER_RESOURCES;
  const memory = String(parseQuantity(limits.memory));
  const cpus = String(parseQuantity(limits.cpu));
  const installed = await dockerRun('install-limited', [
    ...['--memory', memory, '--memory-swap', memory, '--cpus', cpus],
    ...['-v', `${volume}:/kubexit`, image],
  ]);
  t.equal(installed.code, 0, installed.stderr);
  const ran = await dockerRun('limited-main', [
    ...['-v', `${volume}:/kubexit:ro`, '-e', 'KUBEXIT_NAME=main', '-e', 'KUBEXIT_GRAVEYARD=/tmp'],
    ...[busybox, '/kubexit/kubexit', 'true'],
  ]);
  t.equal(ran.code, 0, ran.stderr);
});

test("--image-volume: the image's /opt/kubexit mounted read-only at /kubexit (its subPath) runs", async (t) => {
  // What the kubelet mounts for an image volume with subPath opt/kubexit: the same files, read-only.
  const ran = await dockerRun('image-volume', [
    ...['-v', `${join(IMAGE_TREE, 'opt', 'kubexit')}:/kubexit:ro`],
    ...['-e', 'KUBEXIT_NAME=main', '-e', 'KUBEXIT_GRAVEYARD=/tmp', busybox],
    ...['/kubexit/kubexit', 'sh', '-c', 'exit 3'],
  ]);
  t.equal(ran.code, 3, ran.stderr);
});

test('install into a root-owned volume mounted elsewhere fails with exit 2, naming the uid and the fix', async (t) => {
  const volume = await engine.volume('elsewhere');
  const ran = await dockerRun('install-elsewhere', [
    '-v',
    `${volume}:/shared`,
    image,
    'install',
    '/shared',
  ]);
  t.equal(ran.code, 2);
  t.match(
    ran.stderr,
    /could not create \/shared \(EACCES\): \/shared is not writable by uid 65532: .*run this container as root .*, or mount the volume at \/kubexit/,
  );
  const asRoot = await dockerRun('install-root', [
    '--user',
    '0:0',
    '-v',
    `${volume}:/shared`,
    image,
    'install',
    '/shared',
  ]);
  t.equal(asRoot.code, 0, 'as root, as the message says, it works');
});

test('a non-root container with a root-owned graveyard volume fails with exit 2, naming the fix', async (t) => {
  const volume = await engine.volume('kubexit-nonroot');
  const graveyard = await engine.volume('graveyard-nonroot');
  t.equal((await dockerRun('install-nonroot', ['-v', `${volume}:/kubexit`, image])).code, 0);
  const ran = await dockerRun('nonroot', [
    ...['--user', '65532:65532', '-v', `${volume}:/kubexit`, '-v', `${graveyard}:/graveyard`],
    ...['-e', 'KUBEXIT_NAME=main', busybox, '/kubexit/kubexit', 'true'],
  ]);
  t.equal(ran.code, 2);
  t.match(
    ran.stderr,
    /graveyard \/graveyard is not writable \(EACCES\): \/graveyard is not writable by uid 65532/,
  );
});

test("kubexit's own init container, cp /bin/kubexit /kubexit/kubexit, installs a kubexit that runs", async (t) => {
  const volume = await engine.volume('kubexit-cp');
  const graveyard = await engine.volume('graveyard-cp');
  const copied = await dockerRun('cp', [
    ...[
      '--entrypoint',
      'cp',
      '-v',
      `${volume}:/kubexit`,
      image,
      '/bin/kubexit',
      '/kubexit/kubexit',
    ],
  ]);
  t.equal(copied.code, 0, copied.stderr);
  const ran = await dockerRun('cp-main', [
    ...['-v', `${volume}:/kubexit`, '-v', `${graveyard}:/graveyard`, '-e', 'KUBEXIT_NAME=main'],
    ...[busybox, '/kubexit/kubexit', 'echo', 'supervised'],
  ]);
  t.equal(ran.code, 0, ran.stderr);
  t.equal(ran.stdout, 'supervised\n');
});

test('docker run -i IMAGE inject - makes the same manifest as kubexit inject, with no Node installed', async (t) => {
  const plain = readFileSync(join(ROOT, 'examples/plain/queue-sidecar-job.yaml'), 'utf8');
  const ran = await dockerRun('inject', [image, 'inject', '-'], plain);
  t.equal(ran.code, 0, ran.stderr);
  // The example is made by inject from the plain file; its first line says so.
  const example = readFileSync(join(ROOT, 'examples/queue-sidecar-job.yaml'), 'utf8');
  t.equal(ran.stdout, example.slice(example.indexOf('\n') + 1));
});

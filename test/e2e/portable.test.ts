import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { canEmulateContainers, RootFs, runInContainer } from '../helpers/chroot-container.ts';
import { ARCH, IMAGE_TREE } from '../helpers/dist.ts';
import { Container, LONG_RUNNING, tombstoneMatching } from '../helpers/kubexit.ts';
import { scratchDir } from '../helpers/temp.ts';

const DIST = new URL(`../../dist/linux-${ARCH}/`, import.meta.url).pathname;
const IMAGE = IMAGE_TREE;
const built = existsSync(join(IMAGE, 'opt', 'kubexit', 'kubexit'));
const skip = !built
  ? 'dist/ is not built: run npm run build first'
  : !canEmulateContainers
    ? 'unshare --pid --mount and chroot need root here'
    : false;

/** Every file of a root filesystem, to show there is no libc in it. */
function filesOf(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesOf(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}

/** The pod's shared volumes, and an init container that installs kubexit as in the manifests. */
async function podWithKubexit(t: Test): Promise<{ kubexitVolume: string; graveyard: string }> {
  const kubexitVolume = scratchDir('kubexit-volume-');
  const graveyard = scratchDir('kubexit-graveyard-');
  // The kubexit image: only the bundle, no shell, no libc.
  const image = new RootFs().copy(join(IMAGE, 'opt', 'kubexit'), '/opt/kubexit');
  const init = runInContainer(image, ['/opt/kubexit/kubexit', 'install', '/kubexit'], {
    volumes: { '/kubexit': kubexitVolume },
  });
  const installed = await init.finished;
  t.equal(installed.code, 0, `the init container installed kubexit: ${installed.stderr}`);
  t.match(installed.stdout, /installed the kubexit portable bundle/);
  return { kubexitVolume, graveyard };
}

t.test(
  'a main container and a sidecar in images without any libc, kubexit installed by an init container',
  { skip },
  async (t) => {
    const { kubexitVolume, graveyard } = await podWithKubexit(t);
    const scratch = () => new RootFs().withBusybox();
    const sidecarRoot = scratch();
    t.notOk(
      filesOf(sidecarRoot.dir).some((file) => /lib(c|stdc\+\+)|ld-linux|ld-musl/.test(file)),
      'no libc, no loader in the image',
    );
    const volumes = { '/kubexit': kubexitVolume, '/graveyard': graveyard };
    const sidecar = runInContainer(
      sidecarRoot,
      [
        '/kubexit/kubexit',
        'sh',
        '-c',
        'echo "pid $$"; trap "exit 0" TERM; while :; do sleep 0.1 & wait; done',
      ],
      {
        env: { KUBEXIT_NAME: 'sidecar', KUBEXIT_DEATH_DEPS: 'main' },
        volumes,
      },
    );
    await tombstoneMatching(graveyard, 'sidecar', /Born/);
    const main = runInContainer(
      scratch(),
      [
        '/kubexit/kubexit',
        'sh',
        '-c',
        'echo "parent $PPID"; echo "pid 1 is $(cat /proc/1/comm)"; exit 3',
      ],
      {
        env: { KUBEXIT_NAME: 'main', KUBEXIT_BIRTH_DEPS: 'sidecar' },
        volumes,
      },
    );
    const mainEnded = await main.finished;
    t.equal(mainEnded.code, 3, "the main container's own code");
    // The native front is PID 1 of the container; the Node supervisor it started is the parent.
    t.match(mainEnded.stdout, /pid 1 is kubexit\n/, 'kubexit is PID 1 of the container');
    t.notMatch(
      mainEnded.stdout,
      /parent 1\n/,
      "the command is the supervisor's child, not PID 1's",
    );
    const sidecarEnded = await sidecar.finished;
    t.equal(sidecarEnded.code, 0, 'the sidecar stopped by its death dependency');
    t.match(readFileSync(join(graveyard, 'sidecar'), 'utf8'), /Reason: "death-deps"/);
  },
);

t.test(
  "kubexit's own init container, cp /bin/kubexit /kubexit/kubexit, works unchanged in our image",
  { skip },
  async (t) => {
    const kubexitVolume = scratchDir('kubexit-volume-');
    const graveyard = scratchDir('kubexit-graveyard-');
    // The image's root filesystem exactly as built: no shell, no real cp.
    const image = new RootFs().copyTree(IMAGE);
    const init = await runInContainer(image, ['cp', '/bin/kubexit', '/kubexit/kubexit'], {
      volumes: { '/kubexit': kubexitVolume },
    }).finished;
    t.equal(init.code, 0, init.stderr);
    t.same(readdirSync(kubexitVolume).sort(), ['kubexit', 'lib']);
    // Then an app image without any libc runs it as PID 1.
    const app = new RootFs().withBusybox();
    const ended = await runInContainer(
      app,
      ['/kubexit/kubexit', 'sh', '-c', 'echo "pid 1 is $(cat /proc/1/comm)"; exit 4'],
      {
        env: { KUBEXIT_NAME: 'app', KUBEXIT_GRAVEYARD: '/graveyard' },
        volumes: { '/kubexit': kubexitVolume, '/graveyard': graveyard },
      },
    ).finished;
    t.equal(ended.code, 4, ended.stderr);
    t.match(ended.stdout, /pid 1 is kubexit\n/);
    t.match(readFileSync(join(graveyard, 'app'), 'utf8'), /ExitCode: 4/);
    const other = await runInContainer(image, ['cp', '/etc/passwd', '/x'], {}).finished;
    t.equal(other.code, 1);
    t.match(other.stderr, /this image's cp copies kubexit itself/);
  },
);

t.test(
  'install is idempotent, and the installed kubexit runs from any mount path',
  { skip },
  async (t) => {
    const { kubexitVolume } = await podWithKubexit(t);
    const image = new RootFs().copy(join(IMAGE, 'opt', 'kubexit'), '/opt/kubexit');
    const again = await runInContainer(image, ['/opt/kubexit/kubexit', 'install', '/install'], {
      volumes: { '/install': kubexitVolume },
    }).finished;
    t.equal(again.code, 0);
    t.match(again.stdout, /containers that mount it anywhere run <mount>\/kubexit/);
    const app = new RootFs().withBusybox();
    const ran = await runInContainer(app, ['/tools/kubexit/kubexit', '--version'], {
      volumes: { '/tools/kubexit': kubexitVolume },
    }).finished;
    t.equal(ran.code, 0, ran.stderr);
    t.match(ran.stdout, /^\d+\.\d+\.\d+\n$/);
    t.same(readdirSync(kubexitVolume).sort(), ['kubexit', 'lib'], 'no temporary files left behind');
  },
);

const muslGcc =
  spawnSync('musl-gcc', ['--version']).status === 0 && existsSync('/lib/ld-musl-x86_64.so.1');

t.test(
  'runs in a musl image (as Alpine), wrapping a musl-linked program',
  {
    skip:
      skip ||
      (!muslGcc || ARCH !== 'x64' ? 'musl-gcc (Debian musl-tools) is not installed' : false),
  },
  async (t) => {
    const { kubexitVolume, graveyard } = await podWithKubexit(t);
    const work = scratchDir('kubexit-musl-');
    execFileSync('sh', [
      '-c',
      `printf '#include <stdio.h>\\nint main(void){puts("hello from musl");return 7;}\\n' > ${work}/app.c`,
    ]);
    execFileSync('musl-gcc', ['-o', join(work, 'app'), join(work, 'app.c')]);
    const alpine = new RootFs()
      .copy('/lib/ld-musl-x86_64.so.1', '/lib/ld-musl-x86_64.so.1')
      .copy(join(work, 'app'), '/usr/bin/app');
    t.notOk(
      filesOf(alpine.dir).some((file) => /libc\.so\.6|ld-linux/.test(file)),
      'no glibc in the image',
    );
    const ended = await runInContainer(alpine, ['/kubexit/kubexit', 'app'], {
      env: { KUBEXIT_NAME: 'app' },
      volumes: { '/kubexit': kubexitVolume, '/graveyard': graveyard },
    }).finished;
    t.equal(ended.code, 7);
    t.equal(ended.stdout, 'hello from musl\n');
    t.match(readFileSync(join(graveyard, 'app'), 'utf8'), /ExitCode: 7/);
  },
);

const ARM64 = new URL('../../dist/linux-arm64/', import.meta.url).pathname;
const qemu = spawnSync('qemu-aarch64-static', ['--version']).status === 0;
const arm64Skip = !existsSync(join(ARM64, 'kubexit-node'))
  ? 'the arm64 build is missing: run npm run build -- --all'
  : !qemu
    ? 'qemu-aarch64-static (Debian qemu-user-static) is not installed'
    : false;

t.test(
  'the arm64 build supervises a command under qemu user emulation',
  { skip: arm64Skip },
  async (t) => {
    const graveyard = t.testdir();
    const run = spawnSync(
      'qemu-aarch64-static',
      ['-L', '/usr/aarch64-linux-gnu', join(ARM64, 'kubexit-node'), 'sh', '-c', 'exit 3'],
      {
        env: { ...process.env, KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard },
        encoding: 'utf8',
      },
    );
    t.equal(run.status, 3, run.stderr);
    t.match(readFileSync(join(graveyard, 'main'), 'utf8'), /ExitCode: 3/);
  },
);

t.test(
  'the arm64 portable bundle runs in an image without libc under qemu',
  { skip: arm64Skip || skip },
  async (t) => {
    const root = new RootFs()
      .copy(join(ARM64, 'kubexit'), '/kubexit')
      .copy('/usr/bin/qemu-aarch64-static', '/qemu');
    // qemu-user can't follow the front's exec into another arm64 program (that needs binfmt_misc
    // on the host), so Node is run here exactly as the front runs it: through the bundle's loader.
    const loader = '/kubexit/lib/ld-linux-aarch64.so.1';
    const node = ['--library-path', '/kubexit/lib', '/kubexit/lib/kubexit-node', '--version'];
    const ended = await runInContainer(root, ['/qemu', loader, ...node], {}).finished;
    t.equal(ended.code, 0, ended.stderr);
    t.match(ended.stdout, /^\d+\.\d+\.\d+\n$/);
    // And the arm64 front finds that loader next to itself, wherever it is.
    const front = await runInContainer(root, ['/qemu', '/kubexit/kubexit', '--version'], {})
      .finished;
    t.match(
      front.stderr,
      /cannot run \/kubexit\/lib\/ld-linux-aarch64\.so\.1 \(Exec format error\)/,
    );
  },
);

/**
 * arm64 programs run through qemu by binfmt_misc, registered in a user namespace of the test's
 * own (Linux ≥ 6.7 gives each user namespace its own binfmt_misc): nothing changes on the host,
 * and the arm64 front can exec the arm64 loader and Node as on a real arm64 node.
 */
const BINFMT = [
  'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc',
  'printf ":qemu-aarch64:M::\\\\x7fELF\\\\x02\\\\x01\\\\x01\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x02\\\\x00\\\\xb7\\\\x00:\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\x00\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\xff\\\\xfe\\\\xff\\\\xff\\\\xff:/usr/bin/qemu-aarch64-static:F" > /proc/sys/fs/binfmt_misc/register',
  'exec "$@"',
].join(' && ');
const withArm64 = ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', BINFMT, 'sh'];
const binfmtSkip =
  arm64Skip ||
  (spawnSync(withArm64[0] as string, [...withArm64.slice(1), 'true']).status === 0
    ? false
    : 'binfmt_misc in a user namespace (Linux ≥ 6.7) is not available here');

t.test(
  'the whole arm64 bundle — front, loader, Node — supervises a command, from wherever it was copied',
  { skip: binfmtSkip },
  async (t) => {
    const dir = t.testdir({ graveyard: {} });
    const placed = join(dir, 'somewhere', 'else');
    execFileSync('mkdir', ['-p', placed]);
    execFileSync('cp', ['-a', join(ARM64, 'kubexit'), placed]);
    const run = spawnSync(
      withArm64[0] as string,
      [...withArm64.slice(1), join(placed, 'kubexit', 'kubexit'), 'sh', '-c', 'exit 3'],
      {
        env: { ...process.env, KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: join(dir, 'graveyard') },
        encoding: 'utf8',
      },
    );
    t.equal(run.status, 3, run.stderr);
    t.match(readFileSync(join(dir, 'graveyard', 'main'), 'utf8'), /ExitCode: 3/);
  },
);

/** Resident pages of a process's mapped files, in KiB (the executable's share of its memory). */
function rssFileKiB(pid: number): number {
  return Number(/RssFile:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

t.test(
  'an installed copy costs no more memory than the bundle it came from',
  { skip: built ? false : 'dist/ is not built: run npm run build first' },
  async (t) => {
    const dir = t.testdir();
    const bundle = join(DIST, 'kubexit', 'kubexit');
    execFileSync(bundle, ['install', join(dir, 'installed')]);
    const rss: number[] = [];
    for (const kubexit of [bundle, join(dir, 'installed', 'kubexit')]) {
      const graveyard = scratchDir('kubexit-graveyard-');
      const env = {
        KUBEXIT_NAME: 'side',
        KUBEXIT_GRAVEYARD: graveyard,
        KUBEXIT_DEATH_DEPS: 'main',
      };
      const side = new Container(['sleep', '60'], env, [kubexit], { raw: true });
      await tombstoneMatching(graveyard, 'side', /Born/);
      const front = side.process.pid as number;
      const node = Number(readFileSync(`/proc/${front}/task/${front}/children`, 'utf8').trim());
      rss.push(rssFileKiB(node));
      side.kill('SIGTERM');
      await side.finished;
    }
    const [original = 0, installed = 0] = rss;
    // Written in one big write, the copy was cached in large folios: ~20 MiB more per process.
    t.ok(installed <= original + 4096, `installed ${installed} KiB, original ${original} KiB`);
  },
);

t.test(
  "the executable's scripts come from warm code caches, for a plain container and for a sidecar",
  { skip: built ? false : 'dist/ is not built: run npm run build first' },
  async (t) => {
    const graveyard = scratchDir('kubexit-cache-');
    const run = (env: Record<string, string>) =>
      spawnSync(join(DIST, 'kubexit', 'kubexit'), ['true'], {
        env: {
          ...process.env,
          KUBEXIT_NAME: 'main',
          KUBEXIT_GRAVEYARD: graveyard,
          KUBEXIT_DEBUG_CODE_CACHE: '1',
          ...env,
        },
        encoding: 'utf8',
      });
    const plain = run({});
    t.equal(plain.status, 0, plain.stderr);
    t.match(plain.stderr, /code cache kubexit\.cjs \(plain\): accepted/);
    // Node's own cache, for the loader: made under the same V8 flags, or refused with a warning.
    t.notMatch(plain.stderr, /Warning|rejected/);
    // A birth dependency written as kubexit writes it: born, so ready.
    writeFileSync(join(graveyard, 'db'), 'Born: "2026-01-01T00:00:00Z"\n');
    const sidecar = run({ KUBEXIT_NAME: 'sidecar', KUBEXIT_BIRTH_DEPS: 'db' });
    t.equal(sidecar.status, 0, sidecar.stderr);
    t.match(sidecar.stderr, /code cache kubexit\.cjs \(sidecar\): accepted/);
  },
);

t.test(
  'the executable compacts its heap once start-up is over',
  { skip: built ? false : 'dist/ is not built: run npm run build first' },
  async (t) => {
    const graveyard = scratchDir('kubexit-heap-');
    writeFileSync(join(graveyard, 'main'), 'Born: "2026-01-01T00:00:00Z"\n');
    const sidecar = new Container(
      LONG_RUNNING,
      {
        KUBEXIT_NAME: 'sidecar',
        KUBEXIT_GRAVEYARD: graveyard,
        KUBEXIT_DEATH_DEPS: 'main',
        KUBEXIT_LOG_LEVEL: 'debug',
      },
      [join(DIST, 'kubexit', 'kubexit')],
      { raw: true },
    );
    // The collector is taken at run time (src/adapters/v8-heap.ts): the executable's V8 flags
    // don't expose it, and without it there is no such line.
    await sidecar.logged(/heap compacted, start-up's garbage given back \(\d+\.\d ms\)/);
    t.equal(sidecar.stderr.match(/heap compacted/g)?.length, 1, 'said once');
    sidecar.kill('SIGTERM');
    const ended = await sidecar.finished;
    t.equal(ended.code, 143, ended.stderr);
    await tombstoneMatching(graveyard, 'sidecar', /Died/);
  },
);

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { RootFs } from './chroot-container.ts';
import { IMAGE_ARCH, IMAGE_TREE } from './dist.ts';

/*
 * Real container engines for the tests: Docker (with Compose) and Podman, images made from local
 * files only. Everything a test file makes carries its RUN_ID (names, labels) and is removed when
 * the file ends, also when a test fails. Where no engine can be had, its tests skip with one line
 * saying why; under CI=true that line is a failure instead: CI installs and starts the engines.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Unique to this test process: in every container, volume, pod and image name it makes. */
export const RUN_ID = `kxt${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const REQUIRED = process.env.CI === 'true';

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end, stdin from `input`. A deadline kills it: an engine that hangs fails
 * its test, not the whole suite.
 */
export function run(
  command: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<Ran> {
  const { input, env = process.env, timeoutMs = 120_000, cwd } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Runs a command that must succeed; its stdout, trimmed. */
export async function runOk(
  command: string,
  args: readonly string[],
  options: Parameters<typeof run>[2] = {},
): Promise<string> {
  const ran = await run(command, args, options);
  if (ran.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${ran.code}:\n${ran.stderr}${ran.stdout}`);
  return ran.stdout.trim();
}

/** PATH as every real image sets it: an imported tree has no environment at all. */
export const IMAGE_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * One engine's test file: the engine found, and its `test` (see engineTests). `engine` is only
 * used inside tests and hooks, which don't run when it wasn't found.
 */
export function testsWith<E>(found: E | string): {
  engine: E;
  available: boolean;
  test: ReturnType<typeof engineTests>;
} {
  const reason = typeof found === 'string' ? found : false;
  return { engine: found as E, available: !reason, test: engineTests(reason) };
}

/**
 * The `test` of one engine's test file. Where the engine can't run, the file's tests are not
 * declared and one line says why (a plan of 0), or, under CI=true, that line is a failure.
 */
function engineTests(
  reason: string | false,
): (name: string, fn: (t: Test) => Promise<void>) => void {
  if (!reason) return (name, fn) => t.test(name, fn);
  if (REQUIRED) t.fail(`${reason} (CI=true: the engine tests must run, never skip)`);
  else t.plan(0, reason);
  return () => {};
}

const cleanups: (() => void)[] = [];
process.on('exit', () => {
  for (const cleanup of cleanups.reverse()) cleanup();
});
// A file ended by tap's timeout (SIGTERM) or Ctrl-C still removes what it made: exiting runs the
// handler above, which a death by signal would not.
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => process.exit(128 + (signal === 'SIGTERM' ? 15 : 2)));

/** Removal at the end of the file, whatever happened: synchronous, as the process is ending. */
function atExit(cleanup: () => void): void {
  cleanups.push(cleanup);
}

function commandWorks(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/** Why the bundle can't be put in an image here, or false: npm run build makes dist/image. */
function bundleMissing(): string | false {
  return existsSync(join(IMAGE_TREE, 'opt', 'kubexit', 'kubexit'))
    ? false
    : 'dist/image is not built: run npm run build first';
}

/** A root filesystem directory as an image: tar streamed into `<engine> import`. */
async function importTree(
  engine: readonly string[],
  env: NodeJS.ProcessEnv,
  dir: string,
  tag: string,
  changes: readonly string[] = [],
): Promise<void> {
  const [command, ...args] = engine as [string, ...string[]];
  const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const importer = spawn(
    command,
    [...args, 'import', ...changes.flatMap((change) => ['--change', change]), '-', tag],
    { env, stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  importer.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  tar.stdout.pipe(importer.stdin);
  const code = await new Promise<number | null>((resolve) => importer.on('close', resolve));
  if (code !== 0) throw new Error(`${command} import ${tag} exited ${code}: ${stderr}`);
}

/**
 * Docker: the `docker` CLI on PATH (or KUBEXIT_TEST_DOCKER) talking to a running daemon, able to
 * build with BuildKit (a client older than 23 has it built in; newer ones need buildx), and
 * Compose v2 (`docker compose`) or v1 (`docker-compose`).
 */
export class Docker {
  readonly cli: string;
  readonly compose: readonly string[];
  /** PATH with this CLI first: Compose v1 runs `docker build` for BuildKit builds. */
  readonly env: NodeJS.ProcessEnv;

  private constructor(cli: string, compose: readonly string[]) {
    this.cli = cli;
    this.compose = compose;
    this.env = {
      ...process.env,
      PATH: `${dirname(cli)}:${process.env.PATH}`,
      DOCKER_BUILDKIT: '1',
      COMPOSE_DOCKER_CLI_BUILD: '1',
    };
  }

  /** The Docker this machine has, or why there is none. */
  static find(): Docker | string {
    const missing = bundleMissing();
    if (missing) return missing;
    const candidates = [process.env.KUBEXIT_TEST_DOCKER, 'docker', '/usr/bin/docker'].filter(
      (cli): cli is string => cli !== undefined,
    );
    const reachable = candidates.filter((cli) => commandWorks(cli, ['info']));
    if (reachable.length === 0)
      return 'no Docker daemon answers `docker info`: install Docker (Debian: docker.io) and start dockerd';
    const cli = reachable.find((cli) => Docker.canBuildKit(cli));
    if (cli === undefined)
      return 'this docker CLI cannot build with BuildKit: install the buildx plugin';
    const resolved = cli.includes('/') ? cli : (which(cli) ?? cli);
    if (commandWorks(resolved, ['compose', 'version']))
      return new Docker(resolved, [resolved, 'compose']);
    if (commandWorks('docker-compose', ['version']))
      return new Docker(resolved, ['docker-compose']);
    return 'neither `docker compose` nor docker-compose is installed (Debian: docker-compose)';
  }

  private static canBuildKit(cli: string): boolean {
    if (commandWorks(cli, ['buildx', 'version'])) return true;
    const version = spawnSync(cli, ['version', '--format', '{{.Client.Version}}'], {
      encoding: 'utf8',
    }).stdout;
    return Number.parseInt(version, 10) < 23;
  }

  docker(args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<Ran> {
    return run(this.cli, args, { env: this.env, ...options });
  }

  dockerOk(args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
    return runOk(this.cli, args, { env: this.env, ...options });
  }

  /** The kubexit image from dist/ (the Dockerfile's BUNDLE=from-dist), under a tag of this run. */
  async buildKubexit(): Promise<string> {
    const tag = `kubexit-test/kubexit:${RUN_ID}`;
    this.removeAtExit('rmi', tag);
    await this.dockerOk(['build', '--quiet', '--build-arg', 'BUNDLE=from-dist', '-t', tag, ROOT]);
    return tag;
  }

  /** An image of a root filesystem directory, under a tag of this run. */
  async importTree(dir: string, name: string, changes: readonly string[] = []): Promise<string> {
    const tag = `kubexit-test/${name}:${RUN_ID}`;
    this.removeAtExit('rmi', tag);
    await importTree([this.cli], this.env, dir, tag, changes);
    return tag;
  }

  /** A static busybox (no libc) as an image of this run, with `applets` linked besides sh & co. */
  busybox(applets: readonly string[] = []): Promise<string> {
    const root = new RootFs().withBusybox();
    for (const applet of applets) root.link('busybox', `/bin/${applet}`);
    return this.importTree(root.dir, 'busybox', [`ENV ${IMAGE_PATH}`]);
  }

  /** A named volume of this run. */
  async volume(name: string): Promise<string> {
    const volume = `${RUN_ID}-${name}`;
    await this.dockerOk(['volume', 'create', '--label', `kubexit-test=${RUN_ID}`, volume]);
    this.removeAtExit('volume', volume);
    return volume;
  }

  /** `docker run` flags every container of this run gets: its label, and a name of this run. */
  named(name: string): string[] {
    const container = `${RUN_ID}-${name}`;
    this.removeAtExit('container', container);
    return ['--name', container, '--label', `kubexit-test=${RUN_ID}`];
  }

  removeAtExit(kind: 'rmi' | 'volume' | 'container', name: string): void {
    const args =
      kind === 'rmi'
        ? ['rmi', '-f', name]
        : kind === 'volume'
          ? ['volume', 'rm', '-f', name]
          : ['rm', '-f', '-v', name];
    atExit(() => spawnSync(this.cli, args, { stdio: 'ignore', timeout: 60_000 }));
  }
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = join(dir, command);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/**
 * Podman with a store of this run's own (removed at the end, never the machine's) and the
 * project's containers.conf (test/engines/containers.conf) plus this machine's open-files limit:
 * root can't raise it, so containers get the hard limit the tests run under. VFS storage: no
 * mounts to leave behind.
 */
export class Podman {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly base: readonly string[];

  private constructor() {
    this.home = mkdtempSync(join(tmpdir(), 'kubexit-podman-'));
    const conf = join(this.home, 'containers.conf');
    const limit = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
    const project = readFileSync(join(ROOT, 'test', 'engines', 'containers.conf'), 'utf8');
    writeFileSync(
      conf,
      project.replace(
        /^\[containers\]$/m,
        `[containers]\ndefault_ulimits = ["nofile=${limit}:${limit}", "nproc=4096:4096"]`,
      ),
    );
    this.env = { ...process.env, CONTAINERS_CONF: conf };
    this.base = [
      '--root',
      join(this.home, 'storage'),
      '--runroot',
      join(this.home, 'run'),
      '--storage-driver',
      'vfs',
      '--tmpdir',
      join(this.home, 'tmp'),
    ];
    atExit(() => {
      spawnSync('podman', [...this.base, 'pod', 'rm', '--all', '--force', '--time', '0'], {
        env: this.env,
        stdio: 'ignore',
        timeout: 60_000,
      });
      spawnSync('podman', [...this.base, 'system', 'reset', '--force'], {
        env: this.env,
        stdio: 'ignore',
        timeout: 60_000,
      });
      rmSync(this.home, { recursive: true, force: true });
    });
  }

  /** Podman, or why it can't run here. */
  static find(): Podman | string {
    const missing = bundleMissing();
    if (missing) return missing;
    if (!commandWorks('podman', ['--version']))
      return 'podman is not installed (Debian: podman runc catatonit)';
    if (process.getuid?.() !== 0) return 'the Podman tests run as root (rootful, runc)';
    return new Podman();
  }

  podman(args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<Ran> {
    return run('podman', [...this.base, ...args], { env: this.env, ...options });
  }

  podmanOk(args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
    return runOk('podman', [...this.base, ...args], { env: this.env, ...options });
  }

  /** The kubexit image from dist/, built by the Dockerfile (BUNDLE=from-dist), tagged `tag`. */
  async buildKubexit(tag: string): Promise<void> {
    await this.podmanOk(
      [
        'build',
        '--quiet',
        '--build-arg',
        'BUNDLE=from-dist',
        '--build-arg',
        `TARGETARCH=${IMAGE_ARCH}`,
        '-t',
        tag,
        ROOT,
      ],
      { timeoutMs: 300_000 },
    );
  }

  /** An image of a root filesystem directory, under the name a manifest gives it. */
  importTree(dir: string, tag: string, changes: readonly string[] = []): Promise<void> {
    return importTree(['podman', ...this.base], this.env, dir, tag, changes);
  }
}

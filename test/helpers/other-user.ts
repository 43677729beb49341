import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binCommand, KUBEXIT_BIN, WITHOUT_NODE_OPTIONS } from './kubexit.ts';
import { scratchDir } from './temp.ts';

/** Runs what follows as uid/gid 1000 with no supplementary groups: a container's non-root user. */
export const AS_OTHER_USER = ['setpriv', '--reuid', '1000', '--regid', '1000', '--clear-groups'];

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Why tests that run kubexit as another user can't run here (to skip them with the reason), or
 * false when they can: they need root to switch users, and setpriv to do it.
 */
export function otherUserSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to run containers as other users';
  if (spawnSync('setpriv', ['--version']).status !== 0)
    return 'needs setpriv (Debian: util-linux) to run containers as other users';
  return false;
}

/** Whether uid 1000 can run `command` here (every directory on its way must let it in). */
function runsAsOtherUser(command: readonly string[]): boolean {
  const [file, ...rest] = [...WITHOUT_NODE_OPTIONS, ...AS_OTHER_USER, ...command, '--version'];
  return spawnSync(file as string, rest).status === 0;
}

let cached: string[] | undefined;

/**
 * A kubexit that uid 1000 can run: the one under test when it can (a checkout under /srv), else
 * a copy it can read. A checkout in /root (0700, where root's clones usually go) can't be entered
 * by another user: the sources are bundled into a readable directory with a copy of this Node,
 * or the built executable (the front and its lib/) is copied there.
 */
export function kubexitForOtherUser(): string[] {
  if (cached !== undefined) return cached;
  const command = binCommand();
  if (runsAsOtherUser(command)) {
    cached = command;
    return cached;
  }
  const dir = readableScratchDir('kubexit-other-user-');
  cached = KUBEXIT_BIN.endsWith('.js')
    ? [copyOfNode(dir), bundleSources(dir)]
    : [copyOfExecutable(dir)];
  if (!runsAsOtherUser(cached)) throw new Error(`uid 1000 can't run the copy of kubexit in ${dir}`);
  return cached;
}

/** The built executable as it is laid out: the front, and lib/ with the Node it starts. */
function copyOfExecutable(dir: string): string {
  const copy = join(dir, 'kubexit');
  copyFileSync(KUBEXIT_BIN, copy);
  chmodSync(copy, 0o755);
  cpSync(join(dirname(KUBEXIT_BIN), 'lib'), join(dir, 'lib'), { recursive: true });
  return copy;
}

function copyOfNode(dir: string): string {
  const node = join(dir, 'node');
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  return node;
}

/**
 * The sources as ES modules with their dependencies inside (esbuild): what `node bin/kubexit.js`
 * runs, readable without the checkout. The banner gives bundled CommonJS code its `require`.
 */
function bundleSources(dir: string): string {
  const esbuild = join(REPO, 'node_modules', '.bin', 'esbuild');
  const banner =
    "import{createRequire as __kubexitRequire}from'node:module';const require=__kubexitRequire(import.meta.url);";
  const built = spawnSync(
    esbuild,
    [
      join(REPO, 'bin', 'kubexit.js'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--splitting',
      '--target=node24',
      '--log-level=warning',
      `--outdir=${dir}`,
      '--out-extension:.js=.mjs',
      `--banner:js=${banner}`,
    ],
    { encoding: 'utf8' },
  );
  if (built.status !== 0) throw new Error(`bundling the sources failed: ${built.stderr}`);
  return join(dir, 'kubexit.mjs');
}

/** A scratch directory another user can enter and read (mkdtemp makes them 0700). */
export function readableScratchDir(prefix: string): string {
  const dir = scratchDir(prefix);
  chmodSync(dir, 0o755);
  return dir;
}

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KUBEXIT = join(ROOT, 'dist', 'kubexit');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

/** An earlier build to compare with, in the same run: its dist/kubexit, and what it is. */
export interface PreviousBuild {
  readonly kubexit: string;
  readonly label: string;
}

/** Compiles the timing helper once per run. */
export function buildStamp(): string {
  const binary = join(tempDir('stamp'), 'stamp');
  execFileSync('cc', ['-O2', '-o', binary, join(ROOT, 'scripts', 'bench', 'stamp.c')]);
  return binary;
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A scratch directory, removed when the benchmark ends. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kubexit-bench-${label}-`));
  made.push(dir);
  return dir;
}

/**
 * A scratch directory on a tmpfs (/dev/shm) when there is one, as a pod's graveyard is (an
 * emptyDir with medium Memory, what inject writes), else under the temporary directory; says which.
 */
export function tmpfsDir(label: string): { dir: string; tmpfs: boolean } {
  const tmpfs = isTmpfs('/dev/shm');
  const dir = mkdtempSync(join(tmpfs ? '/dev/shm' : tmpdir(), `kubexit-bench-${label}-`));
  made.push(dir);
  return { dir, tmpfs };
}

function isTmpfs(path: string): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[1] === path && line.split(' ')[2] === 'tmpfs');
  } catch {
    return false;
  }
}

export function available(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** Polls a condition every millisecond until it holds; the deadline only guards against hangs. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`benchmark timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export function fileHas(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** utime+stime of a process, in milliseconds (clock ticks are 100 Hz on Linux). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of a process in MiB: all of it (VmRSS), or only its private pages (RssAnon). */
export function rssMiB(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  )?.[1];
  return Number(kib) / 1024;
}

/** Starts a long-running process and resolves when it has exited. */
export function start(command: string, args: readonly string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { pid: child.pid as number, exited, kill: (signal: NodeJS.Signals) => child.kill(signal) };
}

export function requireBuilt(): void {
  if (!existsSync(KUBEXIT)) throw new Error('dist/kubexit is missing: run npm run build first');
}

/** The direct children of a process (a front's Node; a shell's jobs). */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(' ').map(Number);
  } catch {
    return [];
  }
}

/**
 * A CPU-accounting cgroup for a measurement: a shell that runs `join` first puts itself and every
 * process it starts in it, and `usageMs()` is their exact CPU time, the reaped ones included.
 * Reading each process's utime/stime instead over-counted short-lived process trees (more CPU
 * than the cores could give in the time taken). Undefined without a writable cgroup filesystem
 * (not root): callers fall back to the machine-wide counters of /proc/stat.
 */
export function cpuGroup(
  label: string,
): { readonly join: string; usageMs(): number; remove(): void } | undefined {
  const candidates = [
    {
      root: '/sys/fs/cgroup/cpuacct',
      usage: (dir: string) => readNumber(join(dir, 'cpuacct.usage')) / 1e6,
    },
    { root: '/sys/fs/cgroup/unified', usage: (dir: string) => usecOf(dir) },
    { root: '/sys/fs/cgroup', usage: (dir: string) => usecOf(dir) },
  ];
  for (const { root, usage } of candidates) {
    const dir = join(root, `kubexit-bench-${process.pid}-${label}`);
    try {
      mkdirSync(dir);
      usage(dir);
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // It was never made.
      }
      continue;
    }
    return {
      join: `echo $$ > ${join(dir, 'cgroup.procs')}`,
      usageMs: () => usage(dir),
      remove: () => rmdirSync(dir),
    };
  }
  return undefined;
}

function readNumber(path: string): number {
  const value = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isFinite(value)) throw new Error(`${path} holds no number`);
  return value;
}

function usecOf(dir: string): number {
  const line = readFileSync(join(dir, 'cpu.stat'), 'utf8').match(/usage_usec (\d+)/);
  if (line === null) throw new Error('no usage_usec');
  return Number(line[1]) / 1000;
}

/** /proc's clock ticks (USER_HZ), 100 per second on Linux. */
const TICK_MS = 10;

/**
 * Busy CPU time of the whole machine so far (ms), from /proc/stat: every process counts, and so
 * does time the hypervisor gave to other guests (steal).
 */
export function machineBusyMs(): number {
  const fields =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ??
    [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

/** CPU time (ms) of this process and of every child it has waited for, with theirs. */
export function ownCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // utime, stime, cutime, cstime are fields 14-17 of the whole line: 12-15 after the name.
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15);
  return (utime + stime + cutime + cstime) * TICK_MS;
}

/**
 * The original kubexit (Go), for side-by-side figures: KUBEXIT_GO names a binary, or it is built
 * (once, into dist/.cache) by the peer's own build script when this machine has it next to the
 * project. Undefined otherwise: the comparison is then left out, and the report says so.
 */
export function originalKubexit({ build }: { build: boolean }): string | undefined {
  if (process.env.KUBEXIT_GO) return process.env.KUBEXIT_GO;
  const built = join(ROOT, 'dist', '.cache', 'kubexit-go');
  if (existsSync(built)) return built;
  const script = join(ROOT, '..', 'shared', 'peers', 'kubexit-go', 'build.sh');
  if (!build || !existsSync(script)) return undefined;
  const result = spawnSync('bash', [script, built], { stdio: 'ignore' });
  return result.status === 0 && existsSync(built) ? built : undefined;
}

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KUBEXIT = join(ROOT, 'dist', 'kubexit');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

/** Compiles the timing helper once per run. */
export function buildStamp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubexit-bench-'));
  const binary = join(dir, 'stamp');
  execFileSync('cc', ['-O2', '-o', binary, join(ROOT, 'scripts', 'bench', 'stamp.c')]);
  return binary;
}

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `kubexit-bench-${label}-`));
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

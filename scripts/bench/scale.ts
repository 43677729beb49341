import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMs, fileHas, KUBEXIT, tempDir, until } from './helpers.ts';

export interface ScaleResult {
  readonly sidecars: number;
  /** Busy processes competing for the CPU during the measurement (0: a quiet machine). */
  readonly load: number;
  /** From the main's tombstone rename to the last sidecar's exit. */
  readonly lastExitMs: number;
  /** CPU all sidecar supervisors (and their children) used from the rename to their exit. */
  readonly cpuMs: number;
}

/**
 * N sidecars on one graveyard, all stopped when the main container dies. They run under one
 * shell, which waits for them all and then reports the time and its children's total CPU (the
 * kernel adds each reaped child's CPU, its own reaped children's included, to its parent's
 * cutime/cstime). With `load`, that many busy loops compete for the CPU from before the death
 * until the last sidecar is gone, as on a node whose other pods are busy.
 */
export async function measureScale(
  stamp: string,
  sidecars: number,
  load = 0,
): Promise<ScaleResult> {
  const graveyard = join(tempDir('scale'), 'graveyard');
  const script = [
    `i=0; while [ $i -lt ${sidecars} ]; do KUBEXIT_NAME=sidecar-$i "${KUBEXIT}" sleep 3600 & i=$((i+1)); done`,
    'wait',
    `"${stamp}" now`,
    'cat /proc/$$/stat',
  ].join('\n');
  const env = {
    ...process.env,
    KUBEXIT_GRAVEYARD: graveyard,
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_LOG_LEVEL: 'error',
  };
  const shell = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  shell.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const done = new Promise<void>((resolve) => shell.on('exit', () => resolve()));
  const born = (i: number) => fileHas(join(graveyard, `sidecar-${i}`), 'Born');
  await until(
    () => Array.from({ length: sidecars }, (_, i) => i).every(born),
    `${sidecars} sidecars to start`,
    120_000,
  );
  // Each sidecar is the native front and the Node it started: count both.
  const fronts = childrenOf(shell.pid as number);
  const processes = [...fronts, ...fronts.flatMap(childrenOf)];
  const cpuBefore = processes.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const busy = Array.from({ length: load }, () =>
    spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }),
  );
  writeFileSync(join(graveyard, '.main.tmp'), 'Died: "2026-01-01T00:00:01Z"\nExitCode: 0\n');
  const renamedAt = BigInt(
    execFileSync(stamp, ['rename', join(graveyard, '.main.tmp'), join(graveyard, 'main')], {
      encoding: 'utf8',
    }).trim(),
  );
  await done;
  for (const loop of busy) loop.kill('SIGKILL');
  const [lastExit, stat] = output.trim().split('\n');
  const fields = stat?.split(') ')[1]?.split(' ') ?? [];
  const childrenCpu = (Number(fields[13]) + Number(fields[14])) * 10;
  return {
    sidecars,
    load,
    lastExitMs: Number(BigInt(lastExit ?? '0') - renamedAt) / 1e6,
    cpuMs: childrenCpu - cpuBefore,
  };
}

function childrenOf(pid: number): number[] {
  const found = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? [] : found.split('\n').map(Number);
}

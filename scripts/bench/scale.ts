import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuGroup, fileHas, KUBEXIT, machineBusyMs, tempDir, until } from './helpers.ts';

/**
 * Competition for the machine: none, busy loops (CPU), or writers that fsync 64 MiB at a time on
 * the graveyard's filesystem (I/O: every final tombstone is fsynced too).
 */
export type Load =
  | { readonly kind: 'none' }
  | { readonly kind: 'cpu' | 'io'; readonly processes: number };

/** How each kind of load is made. */
const LOAD_COMMANDS = {
  cpu: () => 'while :; do :; done',
  io: (dir: string) =>
    `while :; do dd if=/dev/zero of=${dir}/load-$$ bs=1M count=64 conv=fsync 2>/dev/null; done`,
};

export function describeLoad(load: Load): string {
  if (load.kind === 'none') return 'none';
  return load.kind === 'cpu'
    ? `${load.processes} busy loops (CPU)`
    : `${load.processes} fsyncing writers (I/O)`;
}

export interface ScaleResult {
  readonly sidecars: number;
  /** What competed with the sidecars during the measurement. */
  readonly load: Load;
  /** From the main's tombstone rename to the last sidecar's exit. */
  readonly lastExitMs: number;
  /** CPU all sidecar supervisors (and their children) used from the rename to their exit. */
  readonly cpuMs: number;
  /** `cgroup`: exactly the sidecars'; `machine`: the whole machine's (no cgroup available). */
  readonly cpuSource: 'cgroup' | 'machine';
}

/**
 * N sidecars on one graveyard, all stopped when the main container dies. They run under one
 * shell in a CPU-accounting cgroup, which waits for them all and then reports the time. With
 * `load`, that many busy loops (outside the cgroup) compete for the CPU from before the death until
 * the last sidecar is gone, as on a node whose other pods are busy.
 */
export async function measureScale(
  stamp: string,
  sidecars: number,
  load: Load = { kind: 'none' },
): Promise<ScaleResult> {
  const dir = tempDir('scale');
  const graveyard = join(dir, 'graveyard');
  const group = cpuGroup(`scale-${sidecars}-${load.kind}`);
  const script = [
    group?.join ?? ':',
    `i=0; while [ $i -lt ${sidecars} ]; do KUBEXIT_NAME=sidecar-$i "${KUBEXIT}" sleep 3600 & i=$((i+1)); done`,
    'wait',
    `"${stamp}" now`,
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
  const usage = group === undefined ? machineBusyMs : () => group.usageMs();
  const busy =
    load.kind === 'none'
      ? []
      : Array.from({ length: load.processes }, () =>
          spawn('sh', ['-c', LOAD_COMMANDS[load.kind](dir)], { stdio: 'ignore', detached: true }),
        );
  // Let the load get going before the death.
  if (busy.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
  // From here to the last exit: the same span as the wall time reported, so CPU ≤ wall × cores.
  const cpuBefore = usage();
  writeFileSync(join(graveyard, '.main.tmp'), 'Died: "2026-01-01T00:00:01Z"\nExitCode: 0\n');
  const renamedAt = BigInt(
    execFileSync(stamp, ['rename', join(graveyard, '.main.tmp'), join(graveyard, 'main')], {
      encoding: 'utf8',
    }).trim(),
  );
  await done;
  const cpuAfter = usage();
  for (const loop of busy) process.kill(-(loop.pid as number), 'SIGKILL');
  group?.remove();
  const lastExit = output.trim().split('\n').at(-1);
  return {
    sidecars,
    load,
    lastExitMs: Number(BigInt(lastExit ?? '0') - renamedAt) / 1e6,
    cpuMs: Math.round(cpuAfter - cpuBefore),
    cpuSource: group === undefined ? 'machine' : 'cgroup',
  };
}

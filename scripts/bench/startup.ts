import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { available, KUBEXIT, NODE, ROOT, tempDir } from './helpers.ts';
import { type Summary, summarize } from './stats.ts';

export interface StartupRow {
  readonly label: string;
  readonly ms: Summary;
}

/**
 * Wall time of starting a wrapper around `true` until it has exited, next to the alternatives.
 * The commands take turns, one run each per round, so they share the machine's noise alike.
 */
export function measureStartup(rounds: number, original?: string): StartupRow[] {
  const graveyard = tempDir('startup');
  const kubexitEnv = {
    KUBEXIT_NAME: 'bench',
    KUBEXIT_GRAVEYARD: graveyard,
    KUBEXIT_LOG_LEVEL: 'error',
  };
  const candidates: Array<{ label: string; command: string[]; env?: Record<string, string> }> = [
    { label: 'true (no wrapper)', command: ['true'] },
    ...(available('tini')
      ? [{ label: 'tini -- true', command: ['tini', '-s', '--', 'true'] }]
      : []),
    ...(available('dumb-init')
      ? [{ label: 'dumb-init true', command: ['dumb-init', 'true'] }]
      : []),
    { label: 'node -e 0 (same Node 24)', command: [NODE, '-e', '0'] },
    { label: 'dist/kubexit -- true', command: [KUBEXIT, '--', 'true'], env: kubexitEnv },
    {
      label: 'dist/lib/kubexit-node -- true (Node alone, without the front)',
      command: [join(ROOT, 'dist', 'lib', 'kubexit-node'), '--', 'true'],
      env: kubexitEnv,
    },
    ...(original === undefined
      ? []
      : [
          { label: 'the original kubexit (Go) true', command: [original, 'true'], env: kubexitEnv },
        ]),
    {
      label: 'node bin/kubexit.js -- true (from source)',
      command: [NODE, join(ROOT, 'bin', 'kubexit.js'), '--', 'true'],
      env: kubexitEnv,
    },
  ];
  const times = candidates.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, candidate] of candidates.entries()) {
      const started = process.hrtime.bigint();
      const result = spawnSync(candidate.command[0] as string, candidate.command.slice(1), {
        env: { ...process.env, ...candidate.env },
        stdio: 'ignore',
      });
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`${candidate.label} failed (exit ${result.status})`);
      times[index]?.push(elapsed);
    }
  }
  return candidates.map((candidate, index) => ({
    label: candidate.label,
    ms: summarize(times[index] ?? []),
  }));
}

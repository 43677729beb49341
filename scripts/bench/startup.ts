import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Floors } from './floor.ts';
import {
  available,
  KUBEXIT,
  machineBusyMs,
  NODE,
  ownCpuMs,
  type PreviousBuild,
  ROOT,
  tmpfsDir,
} from './helpers.ts';
import { type Summary, summarize } from './stats.ts';

export interface StartupRow {
  readonly label: string;
  readonly ms: Summary;
  /**
   * This command's time / `node -e 0`'s, per round: the two ran moments apart, under the same
   * noise. Undefined for rows timed apart from `node -e 0`.
   */
  readonly ratio?: Summary;
}

export interface Startup {
  readonly rows: StartupRow[];
  readonly kept: number;
  /** Rounds thrown away because other processes used the CPU meanwhile. */
  readonly dropped: number;
  /** Disturbed rounds used all the same, the least disturbed first, when quiet ones ran out. */
  readonly disturbedUsed: number;
  /** The CPU time others may use during a kept round (ms). */
  readonly toleranceMs: number;
  /** Whether the graveyard was on a tmpfs, as a pod's (emptyDir, medium Memory). */
  readonly tmpfsGraveyard?: boolean;
}

/** A round is kept when other processes used at most this share of one core meanwhile... */
const OTHERS_SHARE = 0.1;
/** ...or this much CPU time, the granularity of /proc/stat's counters (10 ms) three times over. */
const OTHERS_FLOOR_MS = 30;

/**
 * Wall time of starting a wrapper around `true` until it has exited, next to the alternatives.
 * The commands take turns, one run each per round in a random order, so they share the machine's
 * noise alike. A
 * round during which other processes used the CPU (the machine's busy time in /proc/stat minus
 * this process's and its children's) is thrown away and run again, up to three times the rounds.
 */
export function measureStartup(
  rounds: number,
  floors: Floors,
  original?: string,
  previous?: PreviousBuild,
): Startup {
  const { dir: graveyard, tmpfs } = tmpfsDir('startup');
  const kubexitEnv = {
    KUBEXIT_NAME: 'bench',
    KUBEXIT_GRAVEYARD: graveyard,
    KUBEXIT_LOG_LEVEL: 'error',
  };
  const candidates: Candidate[] = [
    { label: 'true (no wrapper)', command: ['true'] },
    ...(available('tini')
      ? [{ label: 'tini -- true', command: ['tini', '-s', '--', 'true'] }]
      : []),
    ...(available('dumb-init')
      ? [{ label: 'dumb-init true', command: ['dumb-init', 'true'] }]
      : []),
    { label: 'node -e 0 (same Node 24)', command: [NODE, '-e', '0'] },
    { label: 'Node single executable doing nothing', command: [floors.nothing] },
    {
      label: "Node single executable doing a supervisor's least: start true, record start and end",
      command: [floors.supervisor, 'true'],
      env: kubexitEnv,
    },
    { label: 'dist/kubexit -- true', command: [KUBEXIT, '--', 'true'], env: kubexitEnv },
    {
      label: 'dist/lib/kubexit-node -- true (Node alone, without the front)',
      command: [join(ROOT, 'dist', 'lib', 'kubexit-node'), '--', 'true'],
      env: kubexitEnv,
    },
    ...(previous === undefined
      ? []
      : [
          {
            label: `the previous build (${previous.label}) -- true`,
            command: [previous.kubexit, '--', 'true'],
            env: kubexitEnv,
          },
        ]),
    ...(original === undefined
      ? []
      : [
          { label: 'the original kubexit (Go) true', command: [original, 'true'], env: kubexitEnv },
        ]),
  ];
  // Timed in rounds of its own: a 120 ms process leaves the caches cold for whatever runs next
  // (measured: it took kubexit's ratio from 1.30 to 1.40 and hardly changed `node -e 0`'s), and
  // it is compared with nothing.
  const fromSource: Candidate = {
    label: 'node bin/kubexit.js -- true (from source, timed in rounds of its own)',
    command: [NODE, join(ROOT, 'bin', 'kubexit.js'), '--', 'true'],
    env: kubexitEnv,
  };
  const node = candidates.findIndex((candidate) => candidate.label.startsWith('node -e'));
  const compared = interleave(candidates, rounds, node);
  const alone = interleave([fromSource], Math.max(3, Math.ceil(rounds / 3)));
  return {
    ...compared,
    rows: [...compared.rows, ...alone.rows.map((row) => ({ label: row.label, ms: row.ms }))],
    tmpfsGraveyard: tmpfs,
  };
}

export interface Candidate {
  readonly label: string;
  readonly command: string[];
  readonly env?: Record<string, string>;
}

/**
 * Runs each candidate once per round, in a new random order every round, until `rounds` rounds
 * undisturbed by other processes are kept. Ratios are to candidate `baseline`, per kept round.
 */
export function interleave(
  candidates: readonly Candidate[],
  rounds: number,
  baseline = 0,
): Startup {
  const undisturbed: number[][] = [];
  const disturbed: Array<{ round: number[]; othersMs: number }> = [];
  let toleranceMs = 0;
  for (let attempt = 0; undisturbed.length < rounds && attempt < rounds * 3; attempt++) {
    const round: number[] = new Array(candidates.length);
    const busyBefore = machineBusyMs();
    const ownBefore = ownCpuMs();
    const roundStarted = process.hrtime.bigint();
    // A new order every round: no command always runs right after the same one (a heavy one,
    // like kubexit from source, slows whatever follows it).
    for (const index of shuffled(candidates.length)) {
      const candidate = candidates[index] as (typeof candidates)[number];
      const started = process.hrtime.bigint();
      const result = spawnSync(candidate.command[0] as string, candidate.command.slice(1), {
        env: { ...process.env, ...candidate.env },
        stdio: 'ignore',
      });
      round[index] = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`${candidate.label} failed (exit ${result.status})`);
    }
    const wallMs = Number(process.hrtime.bigint() - roundStarted) / 1e6;
    const othersMs = machineBusyMs() - busyBefore - (ownCpuMs() - ownBefore);
    const tolerance = Math.max(OTHERS_FLOOR_MS, OTHERS_SHARE * wallMs);
    toleranceMs = Math.max(toleranceMs, tolerance);
    if (othersMs > tolerance) disturbed.push({ round, othersMs });
    else undisturbed.push(round);
  }
  // On a machine too busy for enough quiet rounds, the least disturbed ones make up the number,
  // and the report says how many that took.
  const fillers = disturbed
    .sort((a, b) => a.othersMs - b.othersMs)
    .slice(0, rounds - undisturbed.length)
    .map(({ round }) => round);
  const used = [...undisturbed, ...fillers];
  return {
    rows: candidates.map((candidate, index) => ({
      label: candidate.label,
      ms: summarize(used.map((round) => round[index] ?? Number.NaN)),
      ratio: summarize(
        used.map((round) => (round[index] ?? Number.NaN) / (round[baseline] ?? Number.NaN)),
      ),
    })),
    kept: undisturbed.length,
    dropped: disturbed.length - fillers.length,
    disturbedUsed: fillers.length,
    toleranceMs,
  };
}

/** 0 … n-1 in a random order (Fisher–Yates). */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, index) => index);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Floors } from './floor.ts';
import type { PreviousBuild } from './helpers.ts';
import {
  childrenOf,
  cpuMs,
  fileHas,
  KUBEXIT,
  NODE,
  rssMiB,
  start,
  tempDir,
  until,
} from './helpers.ts';
import { type Summary, summarize } from './stats.ts';

export interface IdleRow {
  readonly label: string;
  readonly rssMiB: Summary;
  readonly privateMiB: Summary;
  readonly cpuMs: Summary;
}

/** How often memory is sampled while the processes idle. */
export const SAMPLE_MS = 5_000;

/**
 * What a waiting supervisor costs: memory of kubexit — its native front and the Node it started,
 * not the supervised child — and CPU time while it waits for a death dependency that is born and
 * doesn't die (a sidecar while its main container works), next to a bare idle `node` on the same
 * Node. All instances run at once for the same `seconds`. Memory is sampled every SAMPLE_MS and
 * the highest sample counts: a container's memory limit is about the peak, and an idle process
 * that allocates a little every few seconds grows for minutes before a collection.
 */
export async function measureIdle(
  instances: number,
  seconds: number,
  floors: Floors,
  original?: string,
  previous?: PreviousBuild,
): Promise<IdleRow[]> {
  /** `front`: kubexit's front and the Node it starts, both counted. */
  const kinds: Array<{
    label: string;
    env: Record<string, string>;
    command: string[];
    front?: boolean;
    supervisor?: boolean;
  }> = [
    {
      label: 'bare idle node (same Node 24)',
      env: {},
      command: [NODE, '-e', 'setInterval(() => {}, 1e9)'],
    },
    {
      label: "Node single executable doing a supervisor's least, waiting for its command",
      env: {},
      command: [floors.supervisor, 'sleep', '3600'],
      supervisor: true,
    },
    {
      label: 'dist/kubexit waiting, inotify',
      env: { KUBEXIT_WATCH: 'auto' },
      command: [KUBEXIT, 'sleep', '3600'],
      front: true,
      supervisor: true,
    },
    {
      label: 'dist/kubexit waiting, polling 100ms',
      env: { KUBEXIT_WATCH: 'poll' },
      command: [KUBEXIT, 'sleep', '3600'],
      front: true,
      supervisor: true,
    },
    ...(previous === undefined
      ? []
      : [
          {
            label: `the previous build (${previous.label}) waiting, inotify`,
            env: { KUBEXIT_WATCH: 'auto' },
            command: [previous.kubexit, 'sleep', '3600'],
            front: true,
            supervisor: true,
          },
        ]),
    ...(original === undefined
      ? []
      : [
          {
            label: 'the original kubexit (Go) waiting',
            env: {},
            command: [original, 'sleep', '3600'],
            supervisor: true,
          },
        ]),
  ];
  const running = kinds.flatMap((kind, index) =>
    Array.from({ length: instances }, (_, n) => {
      const graveyard = tempDir(`idle-${index}-${n}`);
      // The main container is alive: its tombstone says born (without a liveness socket, so that
      // nobody has to hold one), and the sidecar re-reads it as it would in a running Job.
      writeFileSync(join(graveyard, 'main'), 'Born: "2026-01-01T00:00:00Z"\n');
      const env = {
        KUBEXIT_NAME: 'sidecar',
        KUBEXIT_GRAVEYARD: graveyard,
        KUBEXIT_DEATH_DEPS: 'main',
        KUBEXIT_LOG_LEVEL: 'error',
        ...kind.env,
      };
      return {
        kind: index,
        graveyard,
        process: start(kind.command[0] as string, kind.command.slice(1), env),
      };
    }),
  );
  for (const entry of running.filter((r) => kinds[r.kind]?.supervisor)) {
    await until(
      () => fileHas(join(entry.graveyard, 'sidecar'), 'Born'),
      'the supervisors to start',
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  // kubexit is the front and its Node child; the others are themselves alone.
  const pidsOf = (r: (typeof running)[number]) =>
    kinds[r.kind]?.front ? [r.process.pid, ...childrenOf(r.process.pid)] : [r.process.pid];
  const sum = (pids: number[], measure: (pid: number) => number) =>
    pids.reduce((total, pid) => total + measure(pid), 0);
  const before = running.map((r) => sum(pidsOf(r), cpuMs));
  const rss = running.map(() => 0);
  const anonymous = running.map(() => 0);
  const sample = () =>
    running.forEach((r, i) => {
      const pids = pidsOf(r);
      rss[i] = Math.max(
        rss[i] ?? 0,
        sum(pids, (pid) => rssMiB(pid)),
      );
      anonymous[i] = Math.max(
        anonymous[i] ?? 0,
        sum(pids, (pid) => rssMiB(pid, 'RssAnon')),
      );
    });
  const end = Date.now() + seconds * 1000;
  for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(SAMPLE_MS, left)));
    sample();
  }
  const cpu = running.map((r, i) => sum(pidsOf(r), cpuMs) - (before[i] ?? 0));
  // Supervisors are asked to stop (they stop their children too); the bare node is killed.
  for (const r of running) r.process.kill(kinds[r.kind]?.supervisor ? 'SIGTERM' : 'SIGKILL');
  await Promise.all(running.map((r) => r.process.exited));
  return kinds.map((kind, index) => ({
    label: kind.label,
    rssMiB: summarize(rss.filter((_, i) => running[i]?.kind === index)),
    privateMiB: summarize(anonymous.filter((_, i) => running[i]?.kind === index)),
    cpuMs: summarize(cpu.filter((_, i) => running[i]?.kind === index)),
  }));
}

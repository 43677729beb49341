import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childrenOf, fileHas, KUBEXIT, start, tempDir, until } from './helpers.ts';
import { type Summary, summarize } from './stats.ts';

/**
 * How long each fresh supervisor idles before the death it reacts to, at most: each trial draws
 * its own time below this, so deaths come before, during and after kubexit's first heap
 * compaction (COMPACT_AFTER_MS to COMPACT_AFTER_MS + COMPACT_SPREAD_MS after start, in
 * src/core/life/supervisor.ts), as they do to sidecars whose main containers end at any time.
 */
export const SETTLE_MS = 4_000;
/** And at least (the sidecar's child is running by then). */
export const MIN_SETTLE_MS = 250;

/** A trial's idle time before the death: between MIN_SETTLE_MS and `settleMs`. */
function idleBeforeDeath(settleMs: number): number {
  return MIN_SETTLE_MS + Math.random() * Math.max(0, settleMs - MIN_SETTLE_MS);
}

const DIED = 'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:01Z"\nExitCode: 0\n';

/**
 * Death reaction latency: from the main container's tombstone being renamed into place to the
 * sidecar's child receiving its stop signal. One supervisor per trial, started fresh and left idle
 * for SETTLE_MS before the rename, as in a pod where the sidecar waits while the main works.
 */
export async function measureDeathReaction(
  stamp: string,
  trials: number,
  mode: 'auto' | 'poll',
  pollInterval: string,
  kubexit = KUBEXIT,
  settleMs = SETTLE_MS,
): Promise<Summary> {
  const latencies: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const dir = tempDir('death');
    const graveyard = join(dir, 'graveyard');
    // The original kubexit doesn't create its graveyard (an emptyDir always exists in a pod).
    mkdirSync(graveyard);
    const [ready, stamped] = [join(dir, 'ready'), join(dir, 'signalled')];
    const sidecar = start(kubexit, [stamp, 'child', ready, stamped], {
      KUBEXIT_NAME: 'sidecar',
      KUBEXIT_GRAVEYARD: graveyard,
      KUBEXIT_DEATH_DEPS: 'main',
      KUBEXIT_WATCH: mode,
      KUBEXIT_POLL_INTERVAL: pollInterval,
      KUBEXIT_LOG_LEVEL: 'error',
    });
    await until(
      () => fileHas(ready, 'ready') && fileHas(join(graveyard, 'sidecar'), 'Born'),
      'the sidecar to start',
    );
    // A sidecar has been waiting a while when its main container dies: let it settle first. The
    // extra random part spreads the deaths over the whole poll cycle; without it every trial hit
    // the same phase of it and polling looked faster than it is.
    const phase = Math.random() * (Number.parseInt(pollInterval, 10) || 100);
    await new Promise((resolve) => setTimeout(resolve, idleBeforeDeath(settleMs) + phase));
    writeFileSync(join(graveyard, '.main.tmp'), DIED);
    const renamedAt = BigInt(
      execFileSync(stamp, ['rename', join(graveyard, '.main.tmp'), join(graveyard, 'main')], {
        encoding: 'utf8',
      }).trim(),
    );
    await sidecar.exited;
    const signalledAt = BigInt(readFileSync(stamped, 'utf8').trim());
    latencies.push(Number(signalledAt - renamedAt) / 1e6);
  }
  return summarize(latencies);
}

/**
 * Loss reaction: from the main container being killed from outside (SIGKILL to every process of
 * it at once, as an OOM kill does; no tombstone is written) to the sidecar's child receiving its
 * stop signal, through the main's liveness socket.
 */
export async function measureLossReaction(
  stamp: string,
  trials: number,
  settleMs = SETTLE_MS,
): Promise<Summary> {
  const latencies: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const dir = tempDir('loss');
    const graveyard = join(dir, 'graveyard');
    const [ready, stamped] = [join(dir, 'ready'), join(dir, 'signalled')];
    const env = { KUBEXIT_GRAVEYARD: graveyard, KUBEXIT_LOG_LEVEL: 'error' };
    const main = start(KUBEXIT, ['sleep', '3600'], { ...env, KUBEXIT_NAME: 'main' });
    await until(() => fileHas(join(graveyard, 'main'), 'Born'), 'the main to start');
    const sidecar = start(KUBEXIT, [stamp, 'child', ready, stamped], {
      ...env,
      KUBEXIT_NAME: 'sidecar',
      KUBEXIT_DEATH_DEPS: 'main',
    });
    await until(
      () => fileHas(ready, 'ready') && fileHas(join(graveyard, 'sidecar'), 'Born'),
      'the sidecar to start',
    );
    await new Promise((resolve) => setTimeout(resolve, idleBeforeDeath(settleMs)));
    // The main container is the front, its Node, and the command's process group.
    const node = childrenOf(main.pid);
    const groups = node.flatMap(childrenOf).map((pid) => `-${pid}`);
    const killedAt = BigInt(
      execFileSync(stamp, ['kill', String(main.pid), ...node.map(String), ...groups], {
        encoding: 'utf8',
      }).trim(),
    );
    await Promise.all([sidecar.exited, main.exited]);
    const signalledAt = BigInt(readFileSync(stamped, 'utf8').trim());
    latencies.push(Number(signalledAt - killedAt) / 1e6);
  }
  return summarize(latencies);
}

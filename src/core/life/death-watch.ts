import type { Config, RestartPolicy } from '../model/config.ts';
import { deathTrigger } from '../model/dependency-rules.ts';
import { formatDuration } from '../model/duration.ts';
import { kubeletRestartsFailures } from '../model/options.ts';
import type { SignalName } from '../model/signals.ts';
import type { Tombstone } from '../model/tombstone.ts';
import { describeState, isDead } from '../model/tombstone-state.ts';
import type { Child, Clock, Logger } from '../ports.ts';
import type { DependencyView } from './dependency-view.ts';
import { deathBeforeStart, type Outcome } from './outcome.ts';

/** How often the child's process group is looked at while its leader is gone but the grace runs. */
const GROUP_POLL_MS = 50;
/**
 * How often death dependencies that have never written a tombstone are named: a misspelt name
 * would otherwise keep a sidecar running forever without a word.
 */
export const UNSEEN_REPORT_EVERY_MS = 30_000;

/**
 * What happens when a death dependency dies — all of it, in this file.
 *
 * - Before the child starts: it is never started, and this container ends with exit 0 (it did
 *   not fail; kubexit started the child anyway, or never noticed a death that came first).
 * - While the child runs: its whole process group gets the stop signal, and SIGKILL once the
 *   grace period is over.
 * - When the group's leader has exited but other members remain (one ignoring the stop signal),
 *   the grace period still runs out and SIGKILL ends the group: nothing is left holding the
 *   container.
 *
 * A death is a tombstone's `Died`, or a supervisor found lost (see DependencyView); `any` or
 * `all` of the death dependencies, per the policy.
 */
export class DeathWatch {
  readonly #config: Config;
  readonly #ports: { readonly clock: Clock; readonly logger: Logger };
  readonly #view: DependencyView;
  #stoppedBy: readonly string[] | undefined;
  #graceOver = false;
  /** A stop signal went to the group (a death dependency's, or a forwarded one): grace runs. */
  #stopping = false;
  #cancelGrace: () => void = () => {};
  #onGraceOver: () => void = () => {};
  #cancelReport: () => void = () => {};
  /** The failed lives of death dependencies already said to be left to the kubelet. */
  readonly #noted = new Set<string>();
  #reports = 0;

  constructor(
    config: Config,
    ports: { readonly clock: Clock; readonly logger: Logger },
    view: DependencyView,
  ) {
    this.#config = config;
    this.#ports = ports;
    this.#view = view;
    this.restartPolicy = config.restartPolicy;
  }

  /** The configured restart policy, or the pod's own as API mode reports it. */
  restartPolicy: RestartPolicy;

  /** The death dependencies whose death stopped the child; undefined when none did. */
  get stoppedBy(): readonly string[] | undefined {
    return this.#stoppedBy;
  }

  /** The outcome that replaces the child when a death dependency died before it could start. */
  beforeStart(): Outcome | undefined {
    const dead = this.#dead();
    return dead === undefined ? undefined : deathBeforeStart(dead);
  }

  /** Stops the running child if its death dependencies say so; called on every change. */
  check(child: Child): void {
    if (this.#stoppedBy !== undefined) return;
    const dead = this.#dead();
    if (dead !== undefined) this.#stop(child, dead);
  }

  /**
   * After the group leader exited: while a stop is in progress and members of the group remain,
   * wait for them, or for the grace period to end (then they get SIGKILL).
   */
  async afterLeaderExit(child: Child): Promise<void> {
    if (!this.#stopping || this.#graceOver || !child.groupAlive()) {
      this.cancel();
      return;
    }
    this.#ports.logger.debug(
      `the child exited but members of its process group remain: waiting for them until the grace period ends`,
    );
    await new Promise<void>((resolve) => {
      this.#onGraceOver = resolve;
      const look = () => {
        if (!child.groupAlive()) resolve();
        else this.#ports.clock.setTimer(GROUP_POLL_MS, look);
      };
      look();
    });
    this.cancel();
  }

  cancel(): void {
    this.#cancelGrace();
    this.#onGraceOver();
    this.#cancelReport();
  }

  /**
   * Names, every UNSEEN_REPORT_EVERY_MS, the death dependencies that have never written a
   * tombstone, until each has (or the watch is cancelled).
   */
  reportUnseen(): void {
    const seen = new Set<string>();
    const tick = () => {
      for (const [name, tombstone] of this.#view.snapshot) if (tombstone) seen.add(name);
      const unseen = this.#config.deathDeps.filter((name) => !seen.has(name));
      if (unseen.length === 0) return;
      const names = unseen.map((name) => `"${name}"`).join(', ');
      this.#reports += 1;
      const after = formatDuration(this.#reports * UNSEEN_REPORT_EVERY_MS);
      this.#ports.logger.warn(
        `death dependency ${names} has written no tombstone in ${after}: check the name, it must be the KUBEXIT_NAME of another container of this pod`,
      );
      this.#cancelReport = this.#ports.clock.setTimer(UNSEEN_REPORT_EVERY_MS, tick);
    };
    this.#cancelReport = this.#ports.clock.setTimer(UNSEEN_REPORT_EVERY_MS, tick);
  }

  #dead(): string[] | undefined {
    const { deathDeps, deathDepsPolicy } = this.#config;
    const successOnly = kubeletRestartsFailures(this.restartPolicy);
    if (successOnly) this.#noteRestartedFailures();
    return deathTrigger(deathDeps, deathDepsPolicy, this.#view.snapshot, { successOnly });
  }

  /** Says once per life that a failed death dependency is left to the kubelet to restart. */
  #noteRestartedFailures(): void {
    for (const name of this.#config.deathDeps) {
      const tombstone = this.#view.snapshot.get(name);
      if (!isDead(tombstone) || tombstone?.exitCode === 0) continue;
      const life = `${name} ${tombstone?.born} ${tombstone?.died}`;
      if (this.#noted.has(life)) continue;
      this.#noted.add(life);
      this.#ports.logger.info(
        `death dependency "${name}"${deathNote(tombstone)} failed: with restartPolicy ${this.restartPolicy} the kubelet restarts it, so the command keeps running until it succeeds`,
      );
    }
  }

  /**
   * A terminating signal kubexit received (the pod deleted, `docker stop`) was forwarded to the
   * group: a stop like a death dependency's, so members that ignore it are still gone, SIGKILL
   * at the end of the grace period, before kubexit exits. The exit code stays the child's own.
   */
  forwarded(child: Child, signal: SignalName): void {
    if (this.#stopping) return;
    this.#graceRuns(child, signal);
  }

  #stop(child: Child, dead: readonly string[]): void {
    const { stopSignal, gracePeriodMs } = this.#config;
    this.#stoppedBy = dead;
    const which = dead.map((name) => `"${name}"${deathNote(this.#view.snapshot.get(name))}`);
    const kill = stopSignal === 'SIGKILL' ? '' : `, SIGKILL in ${formatDuration(gracePeriodMs)}`;
    this.#ports.logger.info(
      `death dependency ${which.join(', ')} died: stopping the child with ${stopSignal}${kill}`,
    );
    child.signalGroup(stopSignal);
    if (this.#stopping) return; // a forwarded signal already started the grace period
    this.#graceRuns(child, stopSignal);
  }

  /** After `signal` went to the group: SIGKILL for whatever is left when the grace period ends. */
  #graceRuns(child: Child, signal: SignalName): void {
    const { gracePeriodMs } = this.#config;
    this.#stopping = true;
    if (signal === 'SIGKILL') {
      this.#graceOver = true;
      return;
    }
    this.#cancelGrace = this.#ports.clock.setTimer(gracePeriodMs, () => {
      this.#graceOver = true;
      this.#ports.logger.warn(
        `child's process group still running ${formatDuration(gracePeriodMs)} after ${signal}: sending SIGKILL`,
      );
      child.signalGroup('SIGKILL');
      this.#onGraceOver();
    });
  }
}

/** ` (exit 0)`, ` (lost: its supervisor is gone)`, or nothing when the code is unknown. */
function deathNote(tombstone: Tombstone | undefined): string {
  if (tombstone?.reason === 'lost') return ` (${describeState(tombstone)})`;
  return tombstone?.exitCode === undefined ? '' : ` (exit ${tombstone.exitCode})`;
}

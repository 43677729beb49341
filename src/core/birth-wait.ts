import type { Config } from './config.ts';
import type { DependencyView } from './dependency-view.ts';
import { deadBirthDeps, deathTrigger, pendingBirthDeps } from './deps.ts';
import { formatDuration } from './duration.ts';
import { EXIT_CODES } from './exit-codes.ts';
import type { Clock, Logger } from './ports.ts';
import { type SignalName, signalNumber } from './signals.ts';
import type { Outcome } from './supervisor.ts';
import type { Tombstone } from './tombstone.ts';

export interface BirthWaitHooks {
  /** Receives the function to call whenever something the wait depends on may have changed. */
  onWake(wake: () => void): void;
  /** A terminating signal received so far, if any. */
  terminatedBy(): SignalName | undefined;
}

/**
 * Waits until every birth dependency is alive. Gives up, without starting the child, when a
 * death dependency has died (before or during the wait: kubexit dropped those), when a
 * terminating signal arrives, or when the birth timeout expires.
 */
export class BirthWait {
  readonly #config: Config;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #view: DependencyView;
  readonly #warnedDead = new Set<string>();

  constructor(config: Config, ports: { clock: Clock; logger: Logger }, view: DependencyView) {
    this.#config = config;
    this.#clock = ports.clock;
    this.#logger = ports.logger;
    this.#view = view;
  }

  /** Resolves undefined when the child may start, or with the outcome that replaces it. */
  async run(hooks: BirthWaitHooks): Promise<Outcome | undefined> {
    let timedOut = false;
    let wake: () => void = () => {};
    hooks.onWake(() => wake());
    const { birthTimeoutMs, birthDeps } = this.#config;
    const cancelTimer = this.#clock.setTimer(birthTimeoutMs, () => {
      timedOut = true;
      wake();
    });
    try {
      let announced = false;
      for (;;) {
        const changed = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const verdict = this.#verdict(hooks.terminatedBy(), timedOut);
        if (verdict !== 'wait') return verdict;
        if (!announced) {
          const pending = pendingBirthDeps(birthDeps, this.#view.snapshot);
          this.#logger.info(
            `waiting for birth dependencies: ${pending.join(', ')} (timeout ${formatDuration(birthTimeoutMs)})`,
          );
          announced = true;
        }
        await changed;
      }
    } finally {
      cancelTimer();
    }
  }

  #verdict(signal: SignalName | undefined, timedOut: boolean): Outcome | undefined | 'wait' {
    const { birthDeps, deathDeps, deathDepsPolicy, birthTimeoutMs } = this.#config;
    const snapshot = this.#view.snapshot;
    if (signal !== undefined) return signalBeforeStart(signal);
    const dead = deathTrigger(deathDeps, deathDepsPolicy, snapshot);
    if (dead !== undefined) return this.#deathBeforeStart(dead);
    const pending = pendingBirthDeps(birthDeps, snapshot);
    if (pending.length === 0) {
      if (birthDeps.length > 0)
        this.#logger.info(`birth dependencies ready: ${birthDeps.join(', ')}`);
      return undefined;
    }
    if (timedOut) {
      const detail = pending.map((name) => `${name} (${stateOf(snapshot.get(name))})`).join(', ');
      const message = `birth dependencies not ready after ${formatDuration(birthTimeoutMs)}: ${detail}; not starting the command`;
      return { exitCode: EXIT_CODES.birthTimeout, reason: 'birth-timeout', message };
    }
    this.#warnDeadBirthDeps();
    return 'wait';
  }

  #deathBeforeStart(dead: string[]): Outcome {
    // The child never ran, so there is no code of its own to keep: this container did not fail.
    const names = dead.map((name) => `"${name}"`).join(', ');
    const message = `death dependency ${names} already died: not starting the command (exit 0)`;
    return { exitCode: 0, reason: 'death-deps-before-start', message };
  }

  #warnDeadBirthDeps(): void {
    for (const name of deadBirthDeps(this.#config.birthDeps, this.#view.snapshot)) {
      if (this.#warnedDead.has(name)) continue;
      this.#warnedDead.add(name);
      this.#logger.warn(
        `birth dependency "${name}" has died; waiting for it to restart until the birth timeout`,
      );
    }
  }
}

function signalBeforeStart(signal: SignalName): Outcome {
  const exitCode = 128 + (signalNumber(signal) ?? 0);
  return {
    exitCode,
    reason: 'signal-before-start',
    signal,
    message: `received ${signal} before the command started (exit ${exitCode})`,
  };
}

function stateOf(tombstone: Tombstone | undefined): string {
  if (tombstone === undefined) return 'no tombstone';
  if (tombstone.died !== undefined)
    return `died${tombstone.exitCode === undefined ? '' : `, exit ${tombstone.exitCode}`}`;
  return 'not born';
}

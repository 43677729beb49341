import { BirthWait } from './birth-wait.ts';
import { describeCheck } from './checks.ts';
import type { Config } from './config.ts';
import { DependencyView } from './dependency-view.ts';
import { deathTrigger } from './deps.ts';
import { formatDuration } from './duration.ts';
import { describeError } from './errors.ts';
import { childOutcome, failureOutcome, type Outcome, spawnFailure } from './outcome.ts';
import type {
  Child,
  Clock,
  Graveyard,
  HttpPoster,
  Launcher,
  Logger,
  PodReadiness,
  Prober,
  SignalSource,
  Watcher,
} from './ports.ts';
import { pollUntilReady, type ReadinessPoll } from './readiness.ts';
import { callShutdownUrls } from './shutdown-calls.ts';
import { type SignalName, TERMINATING_SIGNALS } from './signals.ts';
import type { Tombstone } from './tombstone.ts';
import { TombstoneWriter } from './tombstone-writer.ts';

/** Everything the supervisor talks to; main wires the real ones, tests pass fakes. */
export interface SupervisorPorts {
  readonly graveyard: Graveyard;
  readonly watcher: Watcher;
  readonly launcher: Launcher;
  readonly signals: SignalSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly prober: Prober;
  readonly poster: HttpPoster;
  /** Present in Kubernetes API mode only. */
  readonly podReadiness?: PodReadiness;
}

/**
 * The whole life of one wrapped container: prepare the graveyard, watch it, wait for birth
 * dependencies, run the child, stop it when death dependencies die, relay signals, and record the
 * outcome in a tombstone on every path so that no other container waits forever.
 */
export class Supervisor {
  readonly #config: Config;
  readonly #ports: SupervisorPorts;
  readonly #view: DependencyView;
  readonly #tombstone: TombstoneWriter;
  #readiness: ReadinessPoll | undefined;
  #child: Child | undefined;
  #childDone = false;
  #stoppedBy: string[] | undefined;
  #cancelKill: (() => void) | undefined;
  #stateChanged: () => void = () => {};
  #terminatedBy: SignalName | undefined;

  constructor(config: Config, ports: SupervisorPorts) {
    this.#config = config;
    this.#ports = ports;
    const deps = [...new Set([...config.birthDeps, ...config.deathDeps])];
    this.#view = new DependencyView(deps, ports.graveyard, ports.logger);
    this.#tombstone = new TombstoneWriter(config.name, ports.graveyard, ports.logger);
  }

  /** Runs to the end and returns the outcome; the caller exits with `outcome.exitCode`. */
  async run(): Promise<Outcome> {
    const unsubscribe = this.#ports.signals.subscribe((signal) => this.#onSignal(signal));
    let outcome: Outcome;
    try {
      outcome = await this.#live();
    } catch (error) {
      outcome = await this.#failure(error);
    } finally {
      unsubscribe();
      this.#cancelKill?.();
      this.#readiness?.cancel();
      this.#ports.podReadiness?.close();
      await this.#ports.watcher.close().catch(() => {});
    }
    await this.#record(outcome);
    await this.#callShutdownUrls(outcome);
    return outcome;
  }

  async #live(): Promise<Outcome> {
    await this.#ports.graveyard.prepare(this.#config.name);
    await this.#startWatching();
    const blocked = await new BirthWait(this.#config, this.#ports, this.#view).run({
      onWake: (wake) => {
        this.#stateChanged = wake;
      },
      terminatedBy: () => this.#terminatedBy,
    });
    if (blocked !== undefined) return blocked;
    return this.#runChild();
  }

  async #startWatching(): Promise<void> {
    const { birthDeps, deathDeps } = this.#config;
    if (birthDeps.length === 0 && deathDeps.length === 0) return;
    // Watch first, then read: a tombstone written in between is seen by one or the other.
    await this.#ports.watcher.start((name) => {
      if (name === undefined || this.#view.concerns(name)) {
        void this.#view.refresh(name).then(() => this.#onDependencyChange());
      }
    });
    await this.#view.refresh();
    // API mode: the pod's status can say a birth dependency is ready before its tombstone does.
    this.#ports.podReadiness?.start((ready) => {
      this.#view.setApiReady(ready);
      this.#onDependencyChange();
    });
  }

  #onDependencyChange(): void {
    this.#stateChanged();
    if (this.#child === undefined || this.#childDone || this.#stoppedBy !== undefined) return;
    const dead = deathTrigger(
      this.#config.deathDeps,
      this.#config.deathDepsPolicy,
      this.#view.snapshot,
    );
    if (dead !== undefined) this.#stop(dead);
  }

  async #runChild(): Promise<Outcome> {
    const { command, args } = this.#config;
    const launched = await this.#ports.launcher.launch(command, args);
    if (!launched.ok) return spawnFailure(command, launched.errorCode, launched.message);
    const child = launched.child;
    this.#child = child;
    const born = this.#ports.clock.now();
    this.#ports.logger.info(`started ${command} (pid ${child.pid})`, {
      pid: child.pid,
      command,
      args,
    });
    if (this.#terminatedBy !== undefined) child.signalGroup(this.#terminatedBy);
    await this.#tombstone.recordBirth(born, this.#config.readyCheck !== undefined);
    await this.#warmUp();
    this.#watchOwnReadiness();
    this.#onDependencyChange();
    const result = await child.exited;
    this.#childDone = true;
    this.#cancelKill?.();
    this.#readiness?.cancel();
    return childOutcome(result, this.#stoppedBy !== undefined, this.#config.ignoreCodeOnDeathDeps);
  }

  /**
   * Runs the path a death takes once, while nothing else is happening: reading a tombstone that
   * exists and parsing it. Otherwise the first death that matters would also be the first time
   * that code runs, and its compilation would be added to the sidecar's reaction time.
   */
  async #warmUp(): Promise<void> {
    if (this.#config.deathDeps.length === 0) return;
    const own = await this.#ports.graveyard.read(this.#config.name);
    if (own.kind === 'ok')
      deathTrigger(
        this.#config.deathDeps,
        this.#config.deathDepsPolicy,
        new Map([[this.#config.name, own.tombstone]]),
      );
  }

  /** Polls this container's readiness check until it first passes, then records it. */
  #watchOwnReadiness(): void {
    const check = this.#config.readyCheck;
    if (check === undefined) return;
    const { readyIntervalMs: intervalMs, readyTimeoutMs: timeoutMs } = this.#config;
    let last = '';
    const onResult = (result: { detail: string }) => {
      if (result.detail !== last)
        this.#ports.logger.debug(`readiness check ${describeCheck(check)}: ${result.detail}`);
      last = result.detail;
    };
    this.#readiness = pollUntilReady(check, this.#ports, { intervalMs, timeoutMs, onResult });
    void this.#readiness.ready.then(async () => {
      this.#ports.logger.info(`ready: ${describeCheck(check)} passed (${last})`);
      await this.#tombstone.ready(this.#ports.clock.now());
    });
  }

  #stop(dead: string[]): void {
    const { stopSignal, gracePeriodMs } = this.#config;
    this.#stoppedBy = dead;
    const which = dead
      .map((name) => `"${name}"${exitNote(this.#view.snapshot.get(name))}`)
      .join(', ');
    const kill = stopSignal === 'SIGKILL' ? '' : `, SIGKILL in ${formatDuration(gracePeriodMs)}`;
    this.#ports.logger.info(
      `death dependency ${which} died: stopping the child with ${stopSignal}${kill}`,
    );
    this.#child?.signalGroup(stopSignal);
    if (stopSignal === 'SIGKILL') return;
    this.#cancelKill = this.#ports.clock.setTimer(gracePeriodMs, () => {
      this.#ports.logger.warn(
        `child still running ${formatDuration(gracePeriodMs)} after ${stopSignal}: sending SIGKILL`,
      );
      this.#child?.signalGroup('SIGKILL');
    });
  }

  #onSignal(signal: SignalName): void {
    const logger = this.#ports.logger;
    if (this.#childDone) return;
    if (this.#child !== undefined) {
      const log = signal === 'SIGWINCH' ? logger.debug : logger.info;
      log.call(logger, `received ${signal}: forwarding it to the child's process group`);
      this.#child.signalGroup(signal);
    } else if (TERMINATING_SIGNALS.has(signal)) {
      logger.info(`received ${signal} before the child started: not starting it`);
      this.#terminatedBy ??= signal;
      this.#stateChanged();
    } else {
      logger.debug(`received ${signal} before the child started: ignored`);
    }
  }

  /** Turns an error into an outcome; a child still running is killed so it can't be orphaned. */
  async #failure(error: unknown): Promise<Outcome> {
    if (this.#child !== undefined && !this.#childDone) {
      this.#child.signalGroup('SIGKILL');
      await this.#child.exited;
    }
    return failureOutcome(error);
  }

  async #record(outcome: Outcome): Promise<void> {
    const { exitCode, signal, reason } = outcome;
    try {
      await this.#tombstone.died({ died: this.#ports.clock.now(), exitCode, signal, reason });
    } catch (error) {
      this.#ports.logger.error(
        `could not write the tombstone: ${describeError(error)}; dependents will not see this death`,
      );
    }
  }

  /** Asks sidecars kubexit can't wrap to quit, once this container's life has ended. */
  async #callShutdownUrls(outcome: Outcome): Promise<void> {
    const { shutdownUrls, shutdownOnSuccessOnly, shutdownTimeoutMs } = this.#config;
    if (shutdownUrls.length === 0) return;
    if (shutdownOnSuccessOnly && outcome.exitCode !== 0) {
      this.#ports.logger.info(
        `not calling the shutdown URLs: exit ${outcome.exitCode} and --shutdown-on-success-only is set`,
      );
      return;
    }
    await callShutdownUrls(shutdownUrls, shutdownTimeoutMs, this.#ports);
  }
}

function exitNote(tombstone: Tombstone | undefined): string {
  return tombstone?.exitCode === undefined ? '' : ` (exit ${tombstone.exitCode})`;
}

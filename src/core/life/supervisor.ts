import { describeCheck } from '../model/checks.ts';
import { type Config, dependencyNames } from '../model/config.ts';
import { formatDuration } from '../model/duration.ts';
import { SupervisorError } from '../model/errors.ts';
import { EXIT_CODES } from '../model/exit-codes.ts';
import { kubeletRestartsFailures } from '../model/options.ts';
import { type SignalName, STOPPING_SIGNALS, TERMINATING_SIGNALS } from '../model/signals.ts';
import type {
  Child,
  Clock,
  Graveyard,
  HttpPoster,
  Launcher,
  Liveness,
  Logger,
  PodFacts,
  PodReadiness,
  Prober,
  SignalSource,
  Watcher,
} from '../ports.ts';
import { BirthWait } from './birth-wait.ts';
import { Changes } from './changes.ts';
import { DeathWatch } from './death-watch.ts';
import { DependencyView } from './dependency-view.ts';
import { endLife } from './ending.ts';
import { claimName, REFUSED_WRITES_NOTHING } from './name-claim.ts';
import { reportNearNames } from './near-names.ts';
import {
  childOutcome,
  failureOutcome,
  type Outcome,
  signalBeforeStart,
  spawnFailure,
} from './outcome.ts';
import { pollUntilReady } from './readiness-poll.ts';
import type { TombstoneWriter } from './tombstone-writer.ts';

/**
 * Dependencies' tombstones are re-read this often whatever the watcher says: inotify drops events
 * when its queue overflows, and a missed death would keep a sidecar running forever.
 */
export const SAFETY_REREAD_MS = 2_000;

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
  /**
   * Kubernetes API mode: connects to the pod's status, once the name is this container's. Its
   * failure (unusable credentials) ends the life like any other, through the same claim.
   */
  readonly connectPod?: () => Promise<PodReadiness | undefined>;
  /** Liveness sockets; without them, a container killed from outside is only seen by timeouts. */
  readonly liveness?: Liveness;
  /**
   * Told when the life has begun (the graveyard prepared) and once the child has exited: the
   * runtime's own work for that span (heap compaction) starts and stops with them.
   */
  readonly lifeBegun?: () => void;
  readonly childExited?: () => void;
}

/**
 * The whole life of one wrapped container: prepare the graveyard, watch it, wait for birth
 * dependencies, run the child, stop it when death dependencies die (DeathWatch), relay signals,
 * and end through endLife on every path so that no other container waits forever.
 */
export class Supervisor {
  readonly #config: Config;
  readonly #ports: SupervisorPorts;
  readonly #view: DependencyView;
  /** This container's tombstone, once the name is claimed; never another live container's. */
  #tombstone: TombstoneWriter | undefined;
  #podReadiness: PodReadiness | undefined;
  readonly #deathWatch: DeathWatch;
  readonly #changes = new Changes();
  readonly #stopTimers: Array<() => void> = [];
  #child: Child | undefined;
  #childDone = false;
  #terminatedBy: SignalName | undefined;
  /** A dependency the pod's spec doesn't have (API mode): the configuration is wrong. */
  #podProblem: SupervisorError | undefined;
  /** The first stop signal kubexit received and forwarded to the running child. */
  #forwardedStop: SignalName | undefined;

  constructor(config: Config, ports: SupervisorPorts) {
    this.#config = config;
    this.#ports = ports;
    this.#view = new DependencyView(dependencyNames(config), ports);
    this.#deathWatch = new DeathWatch(config, ports, this.#view);
  }

  /** Runs to the end, records it, and returns the outcome; the caller exits with its code. */
  async run(): Promise<Outcome> {
    const unsubscribe = this.#ports.signals.subscribe((signal) => this.#onSignal(signal));
    let outcome: Outcome;
    try {
      outcome = await this.#live();
    } catch (error) {
      outcome = await this.#failure(error);
    } finally {
      unsubscribe();
      this.#deathWatch.cancel();
      for (const stop of this.#stopTimers) stop();
      this.#podReadiness?.close();
      this.#view.close();
      await this.#ports.watcher.close().catch(() => {});
    }
    const tombstone = this.#tombstone;
    if (tombstone === undefined)
      // The name is another live container's (or was never claimed): its tombstone and its
      // shutdown calls are not this container's to make.
      await endLife(outcome, {}, { ...this.#ports, noTombstone: REFUSED_WRITES_NOTHING });
    else {
      const settings = { ...this.#config, restartPolicy: this.#deathWatch.restartPolicy };
      await endLife(outcome, settings, { ...this.#ports, tombstone });
    }
    return outcome;
  }

  async #live(): Promise<Outcome> {
    const { name } = this.#config;
    const claim = await claimName(name, this.#ports);
    if (!claim.owned) throw claim.refusal;
    this.#tombstone = claim.tombstone;
    await this.#ports.graveyard.prepare(name);
    // Right after the claim, before anything is started: a second container of this name is
    // refused from now on, and the records from the birth on say that the socket is held
    // (nobody follows it before a tombstone names it).
    await this.#holdLivenessSocket();
    this.#ports.logger.info(planOf(this.#config));
    this.#podReadiness = await this.#ports.connectPod?.();
    this.#ports.lifeBegun?.();
    await this.#startWatching();
    // Only a container that has something to wait for says so: others are born at once.
    const { birthDeps, birthChecks } = this.#config;
    if (birthDeps.length + birthChecks.length > 0)
      await this.#ownTombstone().recordWaiting(this.#ports.clock.now());
    const blocked = await new BirthWait(this.#config, this.#ports, this.#view).run({
      changes: this.#changes,
      interrupted: () => this.#interrupted(),
    });
    if (blocked !== undefined) return blocked;
    // A SIGTERM that came during start-up must keep the command from starting at all.
    await this.#ports.signals.settle();
    const interrupted = this.#interrupted();
    if (interrupted !== undefined) return interrupted;
    return this.#runChild();
  }

  async #holdLivenessSocket(): Promise<void> {
    const liveness = this.#ports.liveness;
    if (liveness === undefined) return;
    if (await liveness.hold(this.#config.name)) this.#ownTombstone().holdsLivenessSocket();
    else
      this.#ports.logger.warn(
        `could not hold a liveness socket in ${this.#ports.graveyard.dir} (a filesystem without unix sockets, or a name too long for one): if this container is killed from outside, dependents will not notice`,
      );
  }

  /** The tombstone writer, which the life has from its claim on; never used before it. */
  #ownTombstone(): TombstoneWriter {
    if (this.#tombstone === undefined)
      throw new Error('the tombstone is written before the name is claimed');
    return this.#tombstone;
  }

  /** Why the child must not start after all, if anything says so now. */
  #interrupted(): Outcome | undefined {
    if (this.#podProblem !== undefined) return failureOutcome(this.#podProblem);
    if (this.#terminatedBy !== undefined) return signalBeforeStart(this.#terminatedBy);
    return this.#deathWatch.beforeStart();
  }

  async #startWatching(): Promise<void> {
    const { birthDeps, deathDeps } = this.#config;
    if (birthDeps.length === 0 && deathDeps.length === 0) return;
    const reread = (name?: string) =>
      void this.#view.refresh(name).then(() => this.#onDependencyChange());
    this.#view.onChange(() => this.#onDependencyChange());
    // Watch first, then read: a tombstone written in between is seen by one or the other.
    await this.#ports.watcher.start((name) => {
      if (name === undefined || this.#view.concerns(name)) reread(name);
    });
    await this.#view.refresh();
    this.#repeat(SAFETY_REREAD_MS, () => reread());
    this.#deathWatch.reportUnseen();
    void reportNearNames(this.#config, this.#view.snapshot, this.#ports);
    // API mode, as kubexit: the pod's status says when a birth dependency is ready. Until its
    // first answer nothing is; if the API refuses (RBAC), tombstones alone decide.
    const podReadiness = this.#podReadiness;
    if (podReadiness === undefined) return;
    this.#view.setApiReady(new Set());
    podReadiness.start((ready, facts) => {
      if (facts !== undefined) this.#applyPodFacts(facts);
      this.#view.setApiReady(ready);
      this.#onDependencyChange();
    });
  }

  /**
   * API mode knows the pod's spec: a dependency that names no container of the pod is a typo
   * (exit 2, said at once rather than after the birth timeout), and a restart policy not given
   * is the pod's own.
   */
  #applyPodFacts(facts: PodFacts): void {
    const { birthDeps, deathDeps, restartPolicyGiven } = this.#config;
    // A pod always has containers: an empty list says nothing (a partial object), so no verdict.
    const known = facts.containers;
    const unknown =
      known.length === 0
        ? []
        : [...birthDeps, ...deathDeps].filter((name) => !known.includes(name));
    if (unknown.length > 0 && this.#podProblem === undefined) {
      const names = unknown.map((name) => `"${name}"`).join(', ');
      this.#podProblem = new SupervisorError(
        `dependency ${names} is not a container of this pod (its containers: ${facts.containers.join(', ')}): check the name in KUBEXIT_BIRTH_DEPS / KUBEXIT_DEATH_DEPS`,
        EXIT_CODES.config,
      );
      this.#changes.notify();
    }
    const policy = facts.restartPolicy;
    if (restartPolicyGiven || !kubeletRestartsFailures(policy)) return;
    if (this.#deathWatch.restartPolicy === policy) return;
    this.#deathWatch.restartPolicy = policy;
    this.#ports.logger.info(
      `restartPolicy ${policy}, from the pod's spec: a death dependency stops the command only when it succeeded`,
    );
  }

  #repeat(ms: number, action: () => void): void {
    let cancel = () => {};
    const tick = () => {
      action();
      cancel = this.#ports.clock.setTimer(ms, tick);
    };
    cancel = this.#ports.clock.setTimer(ms, tick);
    this.#stopTimers.push(() => cancel());
  }

  #onDependencyChange(): void {
    this.#changes.notify();
    if (this.#child !== undefined && !this.#childDone) this.#deathWatch.check(this.#child);
  }

  async #runChild(): Promise<Outcome> {
    const { command, args } = this.#config;
    const launched = await this.#ports.launcher.launch(command, args);
    if (!launched.ok) return spawnFailure(command, launched.errorCode, launched.message);
    const child = launched.child;
    this.#child = child;
    const born = this.#ports.clock.now();
    // Arguments may carry secrets (--password=…): logged at debug level only.
    this.#ports.logger.info(`started ${command} (pid ${child.pid})`, { pid: child.pid, command });
    this.#ports.logger.debug(`arguments of ${command}`, { args });
    if (this.#terminatedBy !== undefined) child.signalGroup(this.#terminatedBy);
    await this.#ownTombstone().recordBirth(born, this.#config.readyCheck !== undefined);
    await this.#warmUp();
    this.#watchOwnReadiness();
    this.#onDependencyChange();
    const result = await child.exited;
    this.#childDone = true;
    for (const stop of this.#stopTimers.splice(0)) stop();
    this.#ports.childExited?.();
    await this.#deathWatch.afterLeaderExit(child);
    const { ignoreCodeOnDeathDeps } = this.#config;
    return childOutcome(
      result,
      this.#deathWatch.stoppedBy,
      ignoreCodeOnDeathDeps,
      this.#forwardedStop,
    );
  }

  /**
   * Runs the path a death takes once, while nothing else is happening: reading a tombstone that
   * exists and parsing it. Otherwise the first death that matters would also be the first time
   * that code runs, and its compilation would be added to the sidecar's reaction time.
   */
  async #warmUp(): Promise<void> {
    if (this.#config.deathDeps.length === 0) return;
    await this.#ports.graveyard.read(this.#config.name);
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
    const poll = pollUntilReady(check, this.#ports, { intervalMs, timeoutMs, onResult });
    void poll.ready.then(async () => {
      this.#ports.logger.info(`ready: ${describeCheck(check)} passed (${last})`);
      await this.#ownTombstone().ready(this.#ports.clock.now());
    });
    this.#stopTimers.push(() => poll.cancel());
  }

  #onSignal(signal: SignalName): void {
    const logger = this.#ports.logger;
    if (this.#childDone) return;
    if (this.#child !== undefined) {
      const log = signal === 'SIGWINCH' ? logger.debug : logger.info;
      log.call(logger, `received ${signal}: forwarding it to the child's process group`);
      this.#child.signalGroup(signal);
      if (STOPPING_SIGNALS.has(signal)) {
        this.#forwardedStop ??= signal;
        this.#deathWatch.forwarded(this.#child, signal);
      }
    } else if (TERMINATING_SIGNALS.has(signal)) {
      logger.info(`received ${signal} before the child started: not starting it`);
      this.#terminatedBy ??= signal;
      this.#changes.notify();
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
}

/**
 * One line at start saying what this container waits for and what will end it: what people read
 * first in `kubectl logs` when a pod doesn't do what they expected.
 */
export function planOf(config: Config): string {
  const birth = [...config.birthDeps, ...config.birthChecks.map(describeCheck)];
  const starts =
    birth.length === 0
      ? 'starts at once'
      : `starts when ${birth.join(', ')} ${birth.length === 1 ? 'is' : 'are'} ready (timeout ${formatDuration(config.birthTimeoutMs)})`;
  const deaths = config.deathDeps;
  const ends =
    deaths.length === 0
      ? 'ends when it exits'
      : `ends when it exits, or is stopped with ${config.stopSignal} when ${
          deaths.length === 1 ? deaths[0] : `${config.deathDepsPolicy} of ${deaths.join(', ')}`
        } ${deaths.length === 1 || config.deathDepsPolicy === 'any' ? 'dies' : 'die'}`;
  const ready =
    config.readyCheck === undefined
      ? ''
      : `; ready when ${describeCheck(config.readyCheck)} passes`;
  const shutdown =
    config.shutdownUrls.length === 0 ? '' : `; then calls ${config.shutdownUrls.join(', ')}`;
  return `${config.command} (as ${config.name}, graveyard ${config.graveyard}) ${starts}; ${ends}${ready}${shutdown}`;
}

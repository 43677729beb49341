import { type CheckSpec, describeCheck } from '../model/checks.ts';
import type { Config } from '../model/config.ts';
import { deadBirthDeps, pendingBirthDeps } from '../model/dependency-rules.ts';
import { formatDuration } from '../model/duration.ts';
import { describeState } from '../model/tombstone-state.ts';
import type { Clock, Logger, Prober } from '../ports.ts';
import type { Changes } from './changes.ts';
import type { DependencyView } from './dependency-view.ts';
import { birthTimeout, type Outcome } from './outcome.ts';
import { pollUntilReady, type ReadinessPoll } from './readiness-poll.ts';

/** How often a still-waiting container says what it waits for. */
const PROGRESS_EVERY_MS = 10_000;

export interface BirthWaitContext {
  /** Notified whenever something the wait depends on may have changed. */
  readonly changes: Changes;
  /**
   * Why the child must not start after all (a terminating signal, a death dependency that died),
   * as the outcome that replaces it; asked on every change.
   */
  interrupted(): Outcome | undefined;
}

/** An endpoint birth dependency being polled. */
interface EndpointState {
  readonly check: CheckSpec;
  passed: boolean;
  detail: string;
  poll?: ReadinessPoll;
}

/**
 * Waits until every birth dependency is ready: containers by their tombstone (or the Kubernetes
 * API), endpoints by their check. Gives up, without starting the child, when the context says it
 * is interrupted (before or during the wait: kubexit dropped deaths that came during the wait),
 * or when the birth timeout expires.
 */
export class BirthWait {
  readonly #config: Config;
  readonly #ports: { clock: Clock; logger: Logger; prober: Prober };
  readonly #view: DependencyView;
  readonly #warnedDead = new Set<string>();
  readonly #endpoints: EndpointState[];

  constructor(
    config: Config,
    ports: { clock: Clock; logger: Logger; prober: Prober },
    view: DependencyView,
  ) {
    this.#config = config;
    this.#ports = ports;
    this.#view = view;
    this.#endpoints = config.birthChecks.map((check) => ({
      check,
      passed: false,
      detail: 'not checked yet',
    }));
  }

  /** Resolves undefined when the child may start, or with the outcome that replaces it. */
  async run(context: BirthWaitContext): Promise<Outcome | undefined> {
    let timedOut = false;
    const { changes } = context;
    const cancels = [
      this.#ports.clock.setTimer(this.#config.birthTimeoutMs, () => {
        timedOut = true;
        changes.notify();
      }),
      this.#repeatProgress(),
    ];
    this.#startEndpointPolls(() => changes.notify());
    try {
      let announced = false;
      for (;;) {
        const changed = changes.next();
        const verdict = context.interrupted() ?? this.#verdict(timedOut);
        if (verdict !== 'wait') return verdict;
        if (!announced) this.#announce();
        announced = true;
        await changed;
      }
    } finally {
      for (const cancel of cancels) cancel();
      for (const endpoint of this.#endpoints) endpoint.poll?.cancel();
    }
  }

  #startEndpointPolls(wake: () => void): void {
    const { readyIntervalMs: intervalMs, readyTimeoutMs: timeoutMs } = this.#config;
    for (const endpoint of this.#endpoints) {
      const onResult = (result: { detail: string }) => {
        endpoint.detail = result.detail;
      };
      endpoint.poll = pollUntilReady(endpoint.check, this.#ports, {
        intervalMs,
        timeoutMs,
        onResult,
      });
      void endpoint.poll.ready.then(() => {
        endpoint.passed = true;
        this.#ports.logger.info(
          `birth dependency ${describeCheck(endpoint.check)} is ready (${endpoint.detail})`,
        );
        wake();
      });
    }
  }

  #pending(): string[] {
    const names = pendingBirthDeps(
      this.#config.birthDeps,
      this.#view.snapshot,
      this.#view.apiReady,
    );
    const endpoints = this.#endpoints.filter((e) => !e.passed).map((e) => describeCheck(e.check));
    return [...names, ...endpoints];
  }

  #announce(): void {
    const timeout = formatDuration(this.#config.birthTimeoutMs);
    this.#ports.logger.info(
      `waiting for birth dependencies: ${this.#pending().join(', ')} (timeout ${timeout})`,
    );
  }

  #repeatProgress(): () => void {
    let cancel = () => {};
    const tick = () => {
      this.#ports.logger.info(`still waiting for: ${this.#describePending()}`);
      cancel = this.#ports.clock.setTimer(PROGRESS_EVERY_MS, tick);
    };
    cancel = this.#ports.clock.setTimer(PROGRESS_EVERY_MS, tick);
    return () => cancel();
  }

  /** Each dependency still missing, with why: `queue (no tombstone)`, `tcp://db:5432 (ECONNREFUSED)`. */
  #describePending(): string {
    const snapshot = this.#view.snapshot;
    const names = pendingBirthDeps(this.#config.birthDeps, snapshot, this.#view.apiReady);
    const containers = names.map((name) => `${name} (${describeState(snapshot.get(name))})`);
    const endpoints = this.#endpoints
      .filter((e) => !e.passed)
      .map((e) => `${describeCheck(e.check)} (${e.detail})`);
    return [...containers, ...endpoints].join(', ');
  }

  #verdict(timedOut: boolean): Outcome | undefined | 'wait' {
    const { birthTimeoutMs } = this.#config;
    if (this.#pending().length === 0) {
      if (this.#config.birthDeps.length + this.#endpoints.length > 0)
        this.#ports.logger.info('birth dependencies ready');
      return undefined;
    }
    if (timedOut) {
      const after = formatDuration(birthTimeoutMs);
      return birthTimeout(after, this.#pending(), this.#describePending());
    }
    this.#warnDeadBirthDeps();
    return 'wait';
  }

  #warnDeadBirthDeps(): void {
    for (const name of deadBirthDeps(this.#config.birthDeps, this.#view.snapshot)) {
      if (this.#warnedDead.has(name)) continue;
      this.#warnedDead.add(name);
      this.#ports.logger.warn(
        `birth dependency "${name}" has died; waiting for it to restart until the birth timeout`,
      );
    }
  }
}

import type { Snapshot } from '../model/dependency-rules.ts';
import type { Tombstone } from '../model/tombstone.ts';
import { hasLivenessSocket } from '../model/tombstone-state.ts';
import type { Clock, Graveyard, Liveness, Logger, ReadResult } from '../ports.ts';

/**
 * The exit code a dependent records for a container whose supervisor was lost: what Kubernetes
 * reports for a container killed by SIGKILL, which is how supervisors get lost (an OOM kill of
 * the container, `kill -9`). The real code is unknown; the reason says so.
 */
export const LOST_EXIT_CODE = 137;

export interface DependencyViewPorts {
  readonly graveyard: Graveyard;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly liveness?: Liveness;
}

/**
 * The supervisor's view of its dependencies' tombstones. Reads are chained so the last read of a
 * name always reflects the last change reported for it, and a broken tombstone is reported once
 * per distinct problem rather than once per filesystem event.
 *
 * A dependency alive with a liveness socket is followed: when its supervisor is gone without a
 * final tombstone, the view records it as died (reason `lost`) until a new life of it is born.
 */
export class DependencyView {
  readonly #names: readonly string[];
  readonly #ports: DependencyViewPorts;
  readonly #snapshot = new Map<string, Tombstone | undefined>();
  readonly #reported = new Map<string, string>();
  /** Per dependency: the birth time of the life being followed, and how to stop following. */
  readonly #following = new Map<string, { born: string | undefined; stop: () => void }>();
  /** Per dependency: the record of a life found lost, kept until another life is born. */
  readonly #lost = new Map<string, Tombstone>();
  #onChange: () => void = () => {};
  #apiReady: ReadonlySet<string> | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(names: readonly string[], ports: DependencyViewPorts) {
    this.#names = names;
    this.#ports = ports;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /**
   * Containers the Kubernetes API reports ready, as last told; undefined outside API mode (or once
   * the API refused to answer), when tombstones alone decide.
   */
  get apiReady(): ReadonlySet<string> | undefined {
    return this.#apiReady;
  }

  /** Called when the view changed on its own: a liveness socket closed and was looked into. */
  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  setApiReady(ready: ReadonlySet<string> | undefined): void {
    const before = this.#apiReady;
    const newly = [...(ready ?? [])].filter(
      (name) => this.#names.includes(name) && !before?.has(name),
    );
    this.#apiReady = ready;
    for (const name of newly)
      this.#ports.logger.debug(`the Kubernetes API reports "${name}" ready`);
  }

  /** Whether a graveyard entry is one of ours (other containers' tombstones are not read). */
  concerns(name: string): boolean {
    return this.#names.includes(name);
  }

  /** Re-reads one dependency, or all when name is undefined; resolves after the read. */
  refresh(name?: string): Promise<void> {
    const names = name === undefined ? this.#names : [name];
    this.#queue = this.#queue.then(() => this.#readAll(names));
    return this.#queue;
  }

  /** Stops following liveness sockets. */
  close(): void {
    for (const { stop } of this.#following.values()) stop();
    this.#following.clear();
  }

  async #readAll(names: readonly string[]): Promise<void> {
    const read = await Promise.all(names.map((name) => this.#ports.graveyard.read(name)));
    const checked = await Promise.all(
      read.map((result, index) => this.#checkNewLife(names[index] as string, result)),
    );
    for (const [index, { result, lost }] of checked.entries()) {
      const name = names[index] as string;
      if (result.kind === 'ok') this.#accept(name, result.tombstone);
      else this.#reject(name, result.kind === 'invalid' ? result.problem : undefined);
      if (lost && result.kind === 'ok') this.#markLost(name, result.tombstone);
      this.#follow(name);
    }
  }

  /**
   * A life seen for the first time that promises a liveness socket is only believed alive when
   * somebody holds the socket: a dependent that starts after the loss must not see it alive. An
   * unheld socket is no proof alone: the supervisor may have written its death and ended after
   * the read, so the tombstone is read again, after the check, and only a life that still says
   * alive is lost.
   */
  async #checkNewLife(
    name: string,
    result: ReadResult,
  ): Promise<{ result: ReadResult; lost: boolean }> {
    const liveness = this.#ports.liveness;
    if (liveness === undefined || result.kind !== 'ok') return { result, lost: false };
    const { tombstone } = result;
    if (!hasLivenessSocket(tombstone)) return { result, lost: false };
    const seen = this.#following.get(name)?.born ?? this.#lost.get(name)?.born;
    if (seen === tombstone.born || (await liveness.isHeld(name))) return { result, lost: false };
    const after = await this.#ports.graveyard.read(name);
    return {
      result: after,
      lost: after.kind === 'ok' && isSameLifeAlive(after.tombstone, tombstone),
    };
  }

  #accept(name: string, read: Tombstone): void {
    if (this.#reported.delete(name))
      this.#ports.logger.info(`tombstone of "${name}" is valid again`);
    const lost = this.#lost.get(name);
    const lostLife = lost !== undefined && lost.born === read.born && read.died === undefined;
    const tombstone = lostLife ? lost : read;
    if (!lostLife) this.#lost.delete(name);
    const before = this.#snapshot.get(name);
    this.#snapshot.set(name, tombstone);
    if (before?.born !== tombstone.born || before?.died !== tombstone.died) {
      this.#ports.logger.debug(`tombstone of "${name}" changed`, {
        ...tombstone,
        dependency: name,
      });
    }
  }

  #reject(name: string, problem: string | undefined): void {
    // A life found lost stays lost when its tombstone is gone too (a graveyard removed).
    this.#snapshot.set(name, this.#lost.get(name));
    if (problem === undefined || this.#reported.get(name) === problem) return;
    this.#reported.set(name, problem);
    const path = `${this.#ports.graveyard.dir}/${name}`;
    this.#ports.logger.warn(`ignoring tombstone ${path}: it ${problem}; waiting for a valid one`);
  }

  /** Follows the liveness socket of the dependency's current life, if it has one. */
  #follow(name: string): void {
    const tombstone = this.#snapshot.get(name);
    const current = this.#following.get(name);
    // A followed life whose tombstone vanished (a graveyard removed) is still followed: its
    // socket is then the only thing that can tell its end.
    if (current !== undefined && tombstone === undefined) return;
    const wanted = hasLivenessSocket(tombstone) && this.#ports.liveness !== undefined;
    if (current !== undefined && (!wanted || current.born !== tombstone?.born)) {
      current.stop();
      this.#following.delete(name);
    }
    if (!wanted || tombstone === undefined || this.#following.has(name)) return;
    const stop =
      this.#ports.liveness?.follow(name, () => void this.#gone(name, tombstone)) ?? (() => {});
    this.#following.set(name, { born: tombstone.born, stop });
  }

  /**
   * Nobody holds the socket any more (the adapter proved it: a new connection was refused, or the
   * socket is absent). A supervisor that ends normally closes it too, just after writing its final
   * tombstone, so the tombstone is read now, after the close: only a life that still says alive
   * was lost — or one whose tombstone vanished with it (the graveyard removed): nothing else can
   * ever say it ended.
   */
  async #gone(name: string, life: Tombstone): Promise<void> {
    await this.refresh(name);
    const tombstone = this.#snapshot.get(name);
    if (tombstone === undefined || isSameLifeAlive(tombstone, life)) {
      this.#following.get(name)?.stop();
      this.#following.delete(name);
      this.#markLost(name, tombstone ?? life);
      this.#follow(name);
    }
    this.#onChange();
  }

  /** Records a life as lost: dead, reason `lost`, until another life is born. */
  #markLost(name: string, tombstone: Tombstone): void {
    const lost: Tombstone = {
      ...tombstone,
      died: this.#ports.clock.now(),
      exitCode: LOST_EXIT_CODE,
      reason: 'lost',
    };
    this.#lost.set(name, lost);
    this.#snapshot.set(name, lost);
    this.#ports.logger.warn(
      `the supervisor of "${name}" is gone without writing its death (killed from outside: an OOM kill or SIGKILL); counting "${name}" as died (reason lost, exit ${LOST_EXIT_CODE})`,
    );
  }
}

/** Whether `tombstone` is still the life born at `life.born`, with no death written. */
function isSameLifeAlive(tombstone: Tombstone, life: Pick<Tombstone, 'born'>): boolean {
  return tombstone.born === life.born && tombstone.died === undefined;
}

import type { Snapshot } from './deps.ts';
import type { Graveyard, Logger } from './ports.ts';
import type { Tombstone } from './tombstone.ts';

/**
 * The supervisor's view of its dependencies' tombstones. Reads are chained so the last read of a
 * name always reflects the last change reported for it, and a broken tombstone is reported once
 * per distinct problem rather than once per filesystem event.
 */
export class DependencyView {
  readonly #names: readonly string[];
  readonly #graveyard: Graveyard;
  readonly #logger: Logger;
  readonly #snapshot = new Map<string, Tombstone | undefined>();
  readonly #reported = new Map<string, string>();
  #apiReady: ReadonlySet<string> = new Set();
  #queue: Promise<void> = Promise.resolve();

  constructor(names: readonly string[], graveyard: Graveyard, logger: Logger) {
    this.#names = names;
    this.#graveyard = graveyard;
    this.#logger = logger;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Containers the Kubernetes API reports ready (API mode), as last told. */
  get apiReady(): ReadonlySet<string> {
    return this.#apiReady;
  }

  setApiReady(ready: ReadonlySet<string>): void {
    const newly = [...ready].filter(
      (name) => this.#names.includes(name) && !this.#apiReady.has(name),
    );
    this.#apiReady = ready;
    for (const name of newly) this.#logger.debug(`the Kubernetes API reports "${name}" ready`);
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

  async #readAll(names: readonly string[]): Promise<void> {
    const results = await Promise.all(names.map((name) => this.#graveyard.read(name)));
    for (const [index, result] of results.entries()) {
      const name = names[index] as string;
      if (result.kind === 'ok') this.#accept(name, result.tombstone);
      else this.#reject(name, result.kind === 'invalid' ? result.problem : undefined);
    }
  }

  #accept(name: string, tombstone: Tombstone): void {
    if (this.#reported.delete(name)) this.#logger.info(`tombstone of "${name}" is valid again`);
    const before = this.#snapshot.get(name);
    this.#snapshot.set(name, tombstone);
    if (before?.born !== tombstone.born || before?.died !== tombstone.died) {
      this.#logger.debug(`tombstone of "${name}" changed`, { ...tombstone, dependency: name });
    }
  }

  #reject(name: string, problem: string | undefined): void {
    this.#snapshot.set(name, undefined);
    if (problem === undefined || this.#reported.get(name) === problem) return;
    this.#reported.set(name, problem);
    const path = `${this.#graveyard.dir}/${name}`;
    this.#logger.warn(`ignoring tombstone ${path}: it ${problem}; waiting for a valid one`);
  }
}

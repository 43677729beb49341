import { describeError } from '../model/errors.ts';
import type { Tombstone } from '../model/tombstone.ts';
import type { Graveyard, Logger } from '../ports.ts';

/**
 * This container's own tombstone. Each change rewrites the whole record; writes are chained so they
 * land in the order they were made, and once the final record is made, later changes (a readiness
 * poll whose callback runs after the child exited) are dropped: nothing can undo a death.
 */
export class TombstoneWriter {
  readonly #name: string;
  readonly #graveyard: Graveyard;
  readonly #logger: Logger;
  #record: Tombstone = {};
  #queue: Promise<void> = Promise.resolve();
  #liveness: string | undefined;

  constructor(name: string, graveyard: Graveyard, logger: Logger) {
    this.#name = name;
    this.#graveyard = graveyard;
    this.#logger = logger;
  }

  /** From now on, records say that a liveness socket is held while this container lives. */
  holdsLivenessSocket(): void {
    this.#liveness = 'socket';
  }

  /** Waiting for birth dependencies: the container is there, its command not started yet. */
  recordWaiting(time: string): Promise<void> {
    return this.#write({ waiting: time }, 'record the wait');
  }

  /** The child started; without a readiness check it is ready at once. */
  recordBirth(time: string, hasReadinessCheck: boolean): Promise<void> {
    const readiness = hasReadinessCheck ? { readiness: 'pending' } : { ready: time };
    return this.#write({ born: time, ...readiness, ...this.#livenessField() }, 'record the birth');
  }

  ready(time: string): Promise<void> {
    const record = { born: this.#record.born, ready: time, ...this.#livenessField() };
    return this.#write(record, 'record readiness');
  }

  #livenessField(): Pick<Tombstone, 'liveness'> {
    return this.#liveness === undefined ? {} : { liveness: this.#liveness };
  }

  /** The final record. Throws when it could not be written, so the caller can say so. */
  died(fields: Pick<Tombstone, 'died' | 'exitCode' | 'signal' | 'reason'>): Promise<void> {
    const { born, ready } = this.#record;
    this.#record = { born, ready, ...fields };
    const record = this.#record;
    const write = this.#queue.then(() => this.#graveyard.writeFinal(this.#name, record));
    this.#queue = write.catch(() => {});
    return write;
  }

  #write(record: Tombstone, what: string): Promise<void> {
    if (this.#record.died !== undefined) return this.#queue;
    this.#record = record;
    this.#queue = this.#queue
      .then(() => this.#graveyard.write(this.#name, record))
      .catch((error: unknown) => {
        this.#logger.error(`could not ${what} in the graveyard: ${describeError(error)}`);
      });
    return this.#queue;
  }
}

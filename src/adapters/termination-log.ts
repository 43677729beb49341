import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import type { Logger, TerminationLog } from '../core/ports.ts';

/**
 * The kubelet's termination message file. Written only when it exists — the kubelet mounts it
 * into each container; on a host or in Docker there is none, and none is created — and only when
 * it is empty: a message the command wrote itself (some tools report results there) is kept. A
 * file that can't be written is never an error: the ending is already recorded elsewhere.
 */
export class FileTerminationLog implements TerminationLog {
  readonly #path: string;
  readonly #logger: Pick<Logger, 'debug'>;

  constructor(path: string, logger: Pick<Logger, 'debug'>) {
    this.#path = path;
    this.#logger = logger;
  }

  write(message: string): void {
    let fd: number | undefined;
    try {
      // No O_CREAT: a missing file stays missing. O_NONBLOCK: a FIFO with no reader can't hang the
      // ending (ENXIO). Not truncated before it is known to be empty.
      fd = openSync(this.#path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
      const stat = fstatSync(fd);
      if (!stat.isFile()) this.#skip('it is not a regular file');
      else if (stat.size > 0) this.#skip('the command wrote a message of its own, which is kept');
      else writeSync(fd, message);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      this.#skip(code === 'ENOENT' ? 'it does not exist (not in Kubernetes)' : code);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  #skip(why: string): void {
    this.#logger.debug(`termination message not written to ${this.#path}: ${why}`);
  }
}

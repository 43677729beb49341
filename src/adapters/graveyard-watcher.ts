import { type FSWatcher, watch } from 'node:fs';
import type { WatchMode } from '../core/model/config.ts';
import type { Logger, Watcher } from '../core/ports.ts';
import { DepPoller } from './dep-poller.ts';

/** Starts an inotify watch; tests substitute one that fails like an exhausted inotify. */
export type WatchFactory = (
  dir: string,
  listener: (event: string, filename: string | null) => void,
) => FSWatcher;

const watchDirectory: WatchFactory = (dir, listener) =>
  watch(dir, { persistent: true, encoding: 'utf8' }, listener);

export interface GraveyardWatcherOptions {
  readonly mode: WatchMode;
  readonly pollIntervalMs: number;
  /** The declared dependencies: all that polling looks at. */
  readonly names: readonly string[];
  readonly logger: Logger;
  readonly watchFactory?: WatchFactory;
}

/** Errors meaning inotify can't be used here: no instances or watches left, or not permitted. */
const INOTIFY_UNAVAILABLE = new Set(['ENOSPC', 'EMFILE', 'ENFILE', 'EPERM', 'ENOSYS']);

/**
 * Watches the graveyard directory (not its subdirectories) with inotify, and switches to polling
 * the declared dependencies (DepPoller) when inotify is unavailable or exhausted — at start or
 * later — asking for a full re-read so that nothing that happened during the switch is missed.
 * Any other watcher error also asks for a full re-read.
 *
 * Node's fs.watch, not chokidar (why: docs/design.md, "Watching").
 */
export class GraveyardWatcher implements Watcher {
  readonly #dir: string;
  readonly #options: GraveyardWatcherOptions;
  #watcher: FSWatcher | undefined;
  #poller: DepPoller | undefined;
  #polling: boolean;
  #closed = false;

  constructor(dir: string, options: GraveyardWatcherOptions) {
    this.#dir = dir;
    this.#options = options;
    this.#polling = options.mode === 'poll';
  }

  get polling(): boolean {
    return this.#polling;
  }

  async start(onChange: (name: string | undefined) => void): Promise<void> {
    await this.#open(onChange);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#poller?.stop();
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #open(onChange: (name: string | undefined) => void): Promise<void> {
    if (this.#polling) return this.#poll(onChange);
    let watcher: FSWatcher;
    try {
      watcher = (this.#options.watchFactory ?? watchDirectory)(this.#dir, (_event, name) => {
        // Without a name the kernel didn't say what changed: read everything again.
        if (name === null) onChange(undefined);
        // Dot files are temporary files of writers in progress, never tombstones.
        else if (!name.startsWith('.')) onChange(name);
      });
    } catch (error) {
      // An exhausted inotify (no instances or watches left) refuses the watch at once.
      if (!this.#shouldFallBack(error)) throw error;
      return this.#fallBack(undefined, error as Error, onChange);
    }
    this.#watcher = watcher;
    watcher.on('error', (raised: unknown) => {
      const error = raised instanceof Error ? raised : new Error(String(raised));
      if (this.#shouldFallBack(error)) {
        void this.#fallBack(watcher, error, onChange);
        return;
      }
      this.#options.logger.warn(
        `graveyard watcher error: ${error.message}; re-reading every dependency`,
      );
      onChange(undefined);
    });
    this.#options.logger.debug(`watching ${this.#dir} with inotify`);
  }

  async #poll(onChange: (name: string | undefined) => void): Promise<void> {
    const { names, pollIntervalMs } = this.#options;
    this.#poller = new DepPoller(this.#dir, names, pollIntervalMs);
    await this.#poller.start(onChange);
    this.#options.logger.debug(
      `watching ${names.join(', ')} in ${this.#dir} by polling every ${pollIntervalMs}ms`,
    );
  }

  #shouldFallBack(error: unknown): boolean {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return !this.#polling && !this.#closed && code !== undefined && INOTIFY_UNAVAILABLE.has(code);
  }

  async #fallBack(
    failed: FSWatcher | undefined,
    error: Error,
    onChange: (name: string | undefined) => void,
  ): Promise<void> {
    const code = (error as NodeJS.ErrnoException).code;
    this.#polling = true;
    this.#options.logger.warn(
      `inotify is unavailable (${code}); polling the dependencies' tombstones every ${this.#options.pollIntervalMs}ms instead (raise fs.inotify.max_user_instances/max_user_watches to avoid this)`,
    );
    failed?.close();
    if (this.#watcher === failed) this.#watcher = undefined;
    if (this.#closed) return;
    await this.#open(onChange);
    onChange(undefined);
  }
}

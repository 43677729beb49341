import { basename } from 'node:path';
import type { FSWatcher, watch } from 'chokidar';
import type { WatchMode } from '../core/config.ts';
import type { Logger, Watcher } from '../core/ports.ts';
import { DepPoller } from './dep-poller.ts';

/** Creates a chokidar watcher; tests substitute one that fails like an exhausted inotify. */
export type WatchFactory = typeof watch;

export interface ChokidarWatcherOptions {
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
 * Watches the graveyard directory (not its subdirectories) with inotify through chokidar, and
 * switches to polling the declared dependencies (DepPoller) when inotify is unavailable or
 * exhausted — at start or later — asking for a full re-read so that nothing that happened during
 * the switch is missed. Any other watcher error also asks for a full re-read.
 */
export class ChokidarWatcher implements Watcher {
  readonly #dir: string;
  readonly #options: ChokidarWatcherOptions;
  #watcher: FSWatcher | undefined;
  #poller: DepPoller | undefined;
  #polling: boolean;
  #closed = false;

  constructor(dir: string, options: ChokidarWatcherOptions) {
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
    await this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #open(onChange: (name: string | undefined) => void): Promise<void> {
    if (this.#polling) return this.#poll(onChange);
    // Loaded here, not at start-up: containers without dependencies, or polling, never pay for it.
    const factory = this.#options.watchFactory ?? (await import('chokidar')).watch;
    const watcher = factory(this.#dir, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      atomic: false,
      persistent: true,
      backend: 'native',
      // Dot files are temporary files of writers in progress, never tombstones.
      ignored: (path: string) => path !== this.#dir && basename(path).startsWith('.'),
    });
    this.#watcher = watcher;
    const report = (path: string) => onChange(basename(path));
    watcher.on('add', report).on('change', report).on('unlink', report);
    // chokidar stats and reconciles before its add/change events, which costs 1-6 ms; its raw
    // inotify events arrive within a fraction of a millisecond. Both are used: a dependency read
    // twice is harmless, and the raw event makes a sidecar react to a death at once.
    watcher.on('raw', (_event, path) => {
      const name = typeof path === 'string' ? basename(path) : '';
      if (name !== '' && !name.startsWith('.')) onChange(name);
    });
    const fellBack = new Promise<void>((resolve) => {
      watcher.on('error', (raised) => {
        const error = raised instanceof Error ? raised : new Error(String(raised));
        if (!this.#shouldFallBack(error)) {
          this.#options.logger.warn(
            `graveyard watcher error: ${error.message}; re-reading every dependency`,
          );
          onChange(undefined);
          return;
        }
        void this.#fallBack(watcher, error, onChange).then(resolve);
      });
    });
    const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    await Promise.race([ready, fellBack]);
    if (!this.#polling) this.#options.logger.debug(`watching ${this.#dir} with inotify`);
  }

  async #poll(onChange: (name: string | undefined) => void): Promise<void> {
    const { names, pollIntervalMs } = this.#options;
    this.#poller = new DepPoller(this.#dir, names, pollIntervalMs);
    await this.#poller.start(onChange);
    this.#options.logger.debug(
      `watching ${names.join(', ')} in ${this.#dir} by polling every ${pollIntervalMs}ms`,
    );
  }

  #shouldFallBack(error: Error): boolean {
    const code = (error as NodeJS.ErrnoException).code;
    return !this.#polling && !this.#closed && code !== undefined && INOTIFY_UNAVAILABLE.has(code);
  }

  async #fallBack(
    failed: FSWatcher,
    error: Error,
    onChange: (name: string | undefined) => void,
  ): Promise<void> {
    const code = (error as NodeJS.ErrnoException).code;
    this.#polling = true;
    this.#options.logger.warn(
      `inotify is unavailable (${code}); polling the dependencies' tombstones every ${this.#options.pollIntervalMs}ms instead (raise fs.inotify.max_user_instances/max_user_watches to avoid this)`,
    );
    await failed.close().catch(() => {});
    if (this.#closed) return;
    await this.#open(onChange);
    onChange(undefined);
  }
}

import { type BigIntStats, lstatSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Polling, for when inotify is unavailable or exhausted (or `--watch poll`): every interval, one
 * lstat per declared dependency, and a change reported when what it finds differs. Written by
 * hand because chokidar's polling stats every entry of the directory, so its cost grew with what
 * else lay in the graveyard (docs/design.md); this costs the same whatever the graveyard holds.
 */
export class DepPoller {
  readonly #dir: string;
  readonly #names: readonly string[];
  readonly #intervalMs: number;
  readonly #seen = new Map<string, string>();
  readonly #lstat: StatFunction;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `stat` is lstat; tests wrap it to see what is looked at. */
  constructor(
    dir: string,
    names: readonly string[],
    intervalMs: number,
    stat: StatFunction = lstatOrUndefined,
  ) {
    this.#dir = dir;
    this.#names = names;
    this.#intervalMs = intervalMs;
    this.#lstat = stat;
  }

  /** Takes a first look (no changes reported for it), then polls. */
  async start(onChange: (name: string) => void): Promise<void> {
    await this.#look(() => {});
    const tick = async () => {
      await this.#look(onChange);
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
    };
    if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #look(onChange: (name: string) => void): Promise<void> {
    const states = await Promise.all(this.#names.map((name) => this.#stateOf(name)));
    for (const [index, state] of states.entries()) {
      const name = this.#names[index] as string;
      const before = this.#seen.get(name);
      this.#seen.set(name, state);
      if (before !== undefined && before !== state && !this.#stopped) onChange(name);
    }
  }

  /** What identifies a version of an entry: inode, size and times; or its absence. */
  async #stateOf(name: string): Promise<string> {
    const info = this.#lstat(join(this.#dir, name));
    if (info === undefined) return 'absent';
    return `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${info.mode}`;
  }
}

/** What the poller knows of an entry: its lstat, undefined when it can't be had (gone). */
export type StatFunction = (path: string) => BigIntStats | undefined;

/** Synchronous, like the graveyard's reads: one small system call per dependency and interval. */
function lstatOrUndefined(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

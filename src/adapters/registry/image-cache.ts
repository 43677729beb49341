import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What an image runs, as the cache keeps it. */
export interface CachedCommand {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
}

export interface ImageCache {
  get(key: string): Promise<CachedCommand | undefined>;
  set(key: string, value: CachedCommand): Promise<void>;
}

/**
 * Image commands on disk by digest: what a digest names never changes, so an entry never goes
 * stale (a tag is always asked of the registry, then its manifest's digest found here). One small
 * JSON file per key, written aside and renamed; an entry that can't be read is a miss, and a cache
 * that can't be written costs only the next lookup.
 */
export function diskImageCache(directory: string): ImageCache {
  const fileOf = (key: string) =>
    join(directory, `${createHash('sha256').update(key).digest('hex')}.json`);
  return {
    async get(key) {
      try {
        const value = JSON.parse(await readFile(fileOf(key), 'utf8')) as CachedCommand;
        return isWords(value.entrypoint) && isWords(value.cmd) ? value : undefined;
      } catch {
        return undefined;
      }
    },
    async set(key, value) {
      try {
        await mkdir(directory, { recursive: true, mode: 0o700 });
        const file = fileOf(key);
        const aside = `${file}.${process.pid}.tmp`;
        await writeFile(aside, JSON.stringify(value), { mode: 0o600 });
        await rename(aside, file);
      } catch {
        // Only the next lookup pays for it.
      }
    },
  };
}

/** `$XDG_CACHE_HOME/kubexit/images`, or `~/.cache/kubexit/images`. */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'kubexit', 'images');
}

function isWords(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((word) => typeof word === 'string');
}

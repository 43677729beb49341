import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode, GraveyardError } from '../core/errors.ts';
import type { Graveyard, ReadResult } from '../core/ports.ts';
import {
  MAX_TOMBSTONE_BYTES,
  parseTombstone,
  serializeTombstone,
  type Tombstone,
} from '../core/tombstone.ts';

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * The graveyard on a real filesystem. Every other container of the pod can write here, so:
 * writes go to a fresh temporary file (O_EXCL, no-follow) that is fsynced and renamed over the
 * tombstone — a symlink planted at the tombstone's name is replaced, never written through — and
 * reads refuse symlinks, FIFOs, directories and anything larger than a tombstone can be.
 */
export class FsGraveyard implements Graveyard {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async prepare(name: string): Promise<void> {
    await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      if (errorCode(error) === 'EEXIST' || errorCode(error) === 'ENOTDIR') return;
      throw unusable(this.dir, 'could not be created', error);
    });
    const info = await stat(this.dir).catch(() => undefined);
    if (!info?.isDirectory())
      throw new GraveyardError(
        `graveyard ${this.dir} is not a directory; point KUBEXIT_GRAVEYARD at the shared emptyDir`,
      );
    const probe = await this.#writeTemp('probe\n').catch((error: unknown) => {
      throw unusable(this.dir, 'is not writable', error);
    });
    await unlink(probe).catch(() => {});
    // A directory at our tombstone's name would make every later rename fail.
    const entry = await lstat(join(this.dir, name)).catch(() => undefined);
    if (entry?.isDirectory()) {
      throw new GraveyardError(
        `graveyard entry ${join(this.dir, name)} is a directory, so this container's tombstone can't be written there; remove it`,
      );
    }
  }

  async write(name: string, tombstone: Tombstone): Promise<void> {
    const temp = await this.#writeTemp(serializeTombstone(tombstone));
    try {
      await rename(temp, join(this.dir, name));
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    await this.#syncDir();
  }

  async read(name: string): Promise<ReadResult> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      // O_NONBLOCK: opening a FIFO planted in the graveyard must not hang the supervisor.
      handle = await open(join(this.dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      return openFailure(error);
    }
    try {
      const info = await handle.stat();
      const problem = shapeProblem(info);
      if (problem !== undefined) return { kind: 'invalid', problem };
      const buffer = Buffer.alloc(MAX_TOMBSTONE_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_TOMBSTONE_BYTES)
        return { kind: 'invalid', problem: `is larger than ${MAX_TOMBSTONE_BYTES} bytes` };
      const parsed = parseTombstone(buffer.subarray(0, bytesRead).toString('utf8'));
      return parsed.ok
        ? { kind: 'ok', tombstone: parsed.tombstone }
        : { kind: 'invalid', problem: parsed.problem };
    } catch (error) {
      return { kind: 'invalid', problem: `could not be read (${errorCode(error)})` };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** Writes content to a new dot-file in the graveyard (ignored by readers), fsynced. */
  async #writeTemp(content: string): Promise<string> {
    const temp = join(this.dir, `.kubexit-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
    await handle.close();
    return temp;
  }

  /** Makes the rename durable; some filesystems refuse fsync on directories, which is harmless. */
  async #syncDir(): Promise<void> {
    const handle = await open(this.dir, O_RDONLY).catch(() => undefined);
    await handle?.sync().catch(() => {});
    await handle?.close().catch(() => {});
  }
}

function shapeProblem(info: Stats): string | undefined {
  if (info.isDirectory()) return 'is a directory';
  if (!info.isFile()) return 'is not a regular file';
  if (info.size > MAX_TOMBSTONE_BYTES) return `is larger than ${MAX_TOMBSTONE_BYTES} bytes`;
  return undefined;
}

function openFailure(error: unknown): ReadResult {
  const code = errorCode(error);
  if (code === 'ENOENT') return { kind: 'absent' };
  if (code === 'ELOOP')
    return { kind: 'invalid', problem: 'is a symbolic link (tombstones must be regular files)' };
  return { kind: 'invalid', problem: `could not be opened (${code})` };
}

function unusable(dir: string, what: string, error: unknown): GraveyardError {
  const fix =
    'mount a writable volume (an emptyDir shared by the pod) there, or set KUBEXIT_GRAVEYARD';
  return new GraveyardError(`graveyard ${dir} ${what} (${errorCode(error)}): ${fix}`);
}

import {
  closeSync,
  constants,
  type Dir,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  opendirSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { errorCode, GraveyardError } from '../core/model/errors.ts';
import { isSafeName } from '../core/model/names.ts';
import {
  MAX_TOMBSTONE_BYTES,
  parseSimpleTombstone,
  serializeTombstone,
  type Tombstone,
} from '../core/model/tombstone.ts';
import type { Graveyard, ReadResult } from '../core/ports.ts';
import { accessFix } from './access-fix.ts';
import {
  closeQuietly,
  makeDirectory,
  removeQuietly,
  writeAllSync,
  writeAtomically,
  writeTemp,
} from './atomic-file.ts';

const { O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Tombstones are read by containers that may run as other users. */
const TOMBSTONE_MODE = 0o644;
/** Space set aside for the final tombstone, enough for any record we write. */
const RESERVE_BYTES = 4096;
/** Errors worth another try of the final write, and the pause before the first retry. */
const TRANSIENT = new Set(['EINTR', 'EAGAIN', 'EBUSY', 'EIO', 'ETIMEDOUT', 'ESTALE', 'EMFILE']);
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);
/** Out of file descriptors: dependents' connections to the liveness socket can take them all. */
const NO_FDS = new Set(['EMFILE', 'ENFILE']);
const FINAL_ATTEMPTS = 6;
const FIRST_RETRY_MS = 25;
/** How old a file's last change must be for a read of it to be remembered (see #remember). */
const SETTLED_MS = 2_000;

export interface FsGraveyardOptions {
  /** Where non-fatal problems are reported (a reserve that could not be made). */
  readonly warn?: (message: string) => void;
  /** How old a file's last change must be for a read of it to be remembered (see #remember). */
  readonly settledMs?: number;
}

/** The most entries `names()` looks at: enough for any pod, bounded whatever is in the directory. */
const MAX_LISTED = 1_000;

/**
 * The graveyard on a real filesystem. Every other container of the pod can write here, so writes
 * never follow what is planted at a name (see writeAtomically), and reads refuse symlinks, FIFOs,
 * directories and anything larger than a tombstone can be. The final record gets a space reserve
 * made at start-up, so it reaches a volume that filled up meanwhile.
 */
export class FsGraveyard implements Graveyard {
  readonly dir: string;
  readonly #warn: (message: string) => void;
  readonly #seen = new Map<string, Seen>();
  readonly #settledMs: number;
  /** A descriptor held from start-up and given back for the final write when none is left. */
  #spareFd: number | undefined;

  constructor(dir: string, options: FsGraveyardOptions = {}) {
    this.dir = dir;
    this.#warn = options.warn ?? (() => {});
    this.#settledMs = options.settledMs ?? SETTLED_MS;
  }

  async prepare(name: string): Promise<void> {
    let info: Stats;
    try {
      info = makeDirectory(this.dir);
    } catch (error) {
      if (errorCode(error) !== 'ENOTDIR') throw unusable(this.dir, 'could not be created', error);
      throw notDirectory(this.dir);
    }
    if (!info.isDirectory()) throw notDirectory(this.dir);
    // Setting the final record's space aside also proves the graveyard writable: one write at
    // start-up, not two. Only when that fails is a tiny probe written, to tell "full" (a
    // warning) from "not writable" (exit 2). Written blocks count against the volume whether or
    // not they have reached the disk yet, so the reserve needs no fsync.
    try {
      writeAtomically(this.dir, reserveName(name), Buffer.alloc(RESERVE_BYTES, 10), 0o600);
    } catch (error) {
      this.#probe(error);
    }
    await this.#checkReplaceable(name, info);
    try {
      this.#spareFd ??= openSync(this.dir, O_RDONLY);
    } catch {
      // Without a spare, a process out of descriptors retries like any transient error.
    }
  }

  /** Gives the spare descriptor back, so that the next open succeeds; false when none is left. */
  #releaseSpareFd(): boolean {
    if (this.#spareFd === undefined) return false;
    closeQuietly(this.#spareFd);
    this.#spareFd = undefined;
    return true;
  }

  /** The reserve could not be made: fail if nothing can be written, else warn. */
  #probe(reserveError: unknown): void {
    let probe: string;
    try {
      probe = writeTemp(this.dir, 'probe\n', TOMBSTONE_MODE);
    } catch (error) {
      throw unusable(this.dir, 'is not writable', error);
    }
    removeQuietly(probe);
    this.#warn(
      `could not set space aside for the final tombstone (${errorCode(reserveError)}); if the graveyard fills up it may not be written`,
    );
  }

  async write(name: string, tombstone: Tombstone): Promise<void> {
    writeAtomically(this.dir, name, serializeTombstone(tombstone), TOMBSTONE_MODE);
  }

  async writeFinal(name: string, tombstone: Tombstone): Promise<void> {
    const content = serializeTombstone(tombstone);
    let last: unknown;
    for (let attempt = 1; attempt <= FINAL_ATTEMPTS; attempt++) {
      try {
        writeAtomically(this.dir, name, content, TOMBSTONE_MODE);
        removeQuietly(join(this.dir, reserveName(name)));
        return;
      } catch (error) {
        last = error;
        const code = errorCode(error);
        if (NO_FDS.has(code) && this.#releaseSpareFd()) continue;
        if (NO_SPACE.has(code) && this.#writeFromReserve(name, content)) return;
        if (!TRANSIENT.has(code) && !NO_SPACE.has(code)) throw error;
      }
      if (attempt < FINAL_ATTEMPTS) await sleep(FIRST_RETRY_MS * 2 ** (attempt - 1));
    }
    throw last;
  }

  /** At most MAX_LISTED entries are looked at: another container could fill the shared directory. */
  async names(): Promise<string[]> {
    const names: string[] = [];
    let dir: Dir | undefined;
    try {
      dir = opendirSync(this.dir);
      for (let seen = 0; seen < MAX_LISTED; seen++) {
        const entry = dir.readSync();
        if (entry === null) break;
        if (isSafeName(entry.name)) names.push(entry.name);
      }
    } catch {
      // Unreadable: no names, as documented.
    } finally {
      dir?.closeSync();
    }
    return names;
  }

  async read(name: string): Promise<ReadResult> {
    // Synchronous, as the writes are (why: docs/design.md, "Tombstone reads").
    let fd: number;
    try {
      // O_NONBLOCK: opening a FIFO planted in the graveyard must not hang the supervisor.
      fd = openSync(join(this.dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      return openFailure(error);
    }
    try {
      const info = fstatSync(fd);
      const problem = shapeProblem(info);
      if (problem !== undefined) return { kind: 'invalid', problem };
      const seen = this.#seen.get(name);
      if (seen !== undefined && sameFile(seen, info)) return seen.result;
      const result = await readTombstone(fd);
      this.#remember(name, info, result);
      return result;
    } catch (error) {
      return { kind: 'invalid', problem: `could not be read (${errorCode(error)})` };
    } finally {
      closeQuietly(fd);
    }
  }

  /**
   * Remembers what a file said, to skip reading and parsing it again while it is unchanged: a
   * waiting sidecar re-reads its dependencies every few seconds for the whole Job, and each read
   * and parse was garbage an idle process then kept. Only a file whose last change is at least
   * SETTLED_MS old is remembered, so that a later change carries another timestamp even on a
   * filesystem that keeps whole seconds. The watcher's events go through here too: a remembered
   * read is only ever returned for a file whose identity, size and times are all unchanged.
   */
  #remember(name: string, info: Stats, result: ReadResult): void {
    if (Date.now() - info.ctimeMs < this.#settledMs) {
      this.#seen.delete(name);
      return;
    }
    const { ino, size, mtimeMs, ctimeMs } = info;
    this.#seen.set(name, { ino, size, mtimeMs, ctimeMs, result });
  }

  /**
   * Proves now that `<dir>/<name>` can be replaced later. A directory there never can; a file of
   * another user in a sticky (1777) graveyard can't be renamed over without CAP_FOWNER, and that
   * would only show at the first tombstone. So such a file is taken over now: replaced by a copy
   * of itself that we own, which is exactly the rename every later write does.
   */
  async #checkReplaceable(name: string, dirInfo: Stats): Promise<void> {
    const path = join(this.dir, name);
    const entry = lstatSync(path, { throwIfNoEntry: false });
    if (entry?.isDirectory())
      throw new GraveyardError(
        `graveyard entry ${path} is a directory, so this container's tombstone can't be written there; remove it`,
      );
    const uid = process.geteuid?.();
    if (entry === undefined || uid === undefined || entry.uid === uid) return;
    const copy = await this.read(name);
    const content = copy.kind === 'ok' ? serializeTombstone(copy.tombstone) : '';
    const temp = writeTemp(this.dir, content, TOMBSTONE_MODE);
    try {
      renameSync(temp, path);
    } catch (error) {
      removeQuietly(temp);
      const sticky = (dirInfo.mode & 0o1000) !== 0 ? ' and the graveyard is sticky' : '';
      throw new GraveyardError(
        `graveyard entry ${path} belongs to uid ${entry.uid}${sticky}, so this container (uid ${uid}) can't replace its tombstone (${errorCode(error)}): remove that file, give each container its own name, or run the containers as the same user`,
      );
    }
  }

  /** Writes the final record into the reserve made at start-up, in place, then renames it. */
  #writeFromReserve(name: string, content: string): boolean {
    const reserve = join(this.dir, reserveName(name));
    try {
      const fd = openSync(reserve, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
      try {
        const info = fstatSync(fd);
        const bytes = Buffer.from(content, 'utf8');
        if (!info.isFile() || info.size < bytes.length) return false;
        // Overwriting blocks the file already has needs no free space; shrinking frees some.
        writeAllSync(fd, bytes);
        ftruncateSync(fd, bytes.length);
        fchmodSync(fd, TOMBSTONE_MODE);
      } finally {
        closeSync(fd);
      }
      renameSync(reserve, join(this.dir, name));
      return true;
    } catch {
      return false;
    }
  }
}

/** A dot file: never a tombstone (names can't start with a dot), ignored by readers. */
function reserveName(name: string): string {
  return `.${name}.reserve`;
}

/** A tombstone's content, from its open file. */
async function readTombstone(fd: number): Promise<ReadResult> {
  const buffer = readBuffer();
  const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
  if (bytesRead > MAX_TOMBSTONE_BYTES)
    return { kind: 'invalid', problem: `is larger than ${MAX_TOMBSTONE_BYTES} bytes` };
  const text = buffer.subarray(0, bytesRead).toString('utf8');
  // The YAML library is loaded only for a tombstone that isn't in the simple form.
  const parsed =
    parseSimpleTombstone(text) ??
    (await import('../core/model/tombstone-yaml.ts')).parseTombstone(text);
  return parsed.ok
    ? { kind: 'ok', tombstone: parsed.tombstone }
    : { kind: 'invalid', problem: parsed.problem };
}

/** A file as fstat saw it: a write, a truncation or a replacement changes one of these. */
interface Seen {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly result: ReadResult;
}

function sameFile(seen: Seen, info: Stats): boolean {
  return (
    seen.ino === info.ino &&
    seen.size === info.size &&
    seen.mtimeMs === info.mtimeMs &&
    seen.ctimeMs === info.ctimeMs
  );
}

/**
 * One buffer for every read, made on first use: reads are synchronous, so no two share it at a
 * time. A waiting sidecar re-reads its dependencies every few seconds for as long as the Job
 * runs; a new 4 KiB buffer each time was memory outside V8's heap that only a garbage collection
 * gives back, and an idle process collects rarely.
 */
let scratch: Buffer | undefined;
function readBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(MAX_TOMBSTONE_BYTES + 1);
  return scratch;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

function notDirectory(dir: string): GraveyardError {
  return new GraveyardError(
    `graveyard ${dir} is not a directory; point KUBEXIT_GRAVEYARD at the shared emptyDir`,
  );
}

function unusable(dir: string, what: string, error: unknown): GraveyardError {
  const code = errorCode(error);
  const fix =
    accessFix(dir, code) ??
    'mount a writable volume (an emptyDir shared by the pod) there, or set KUBEXIT_GRAVEYARD';
  return new GraveyardError(`graveyard ${dir} ${what} (${code}): ${fix}`);
}

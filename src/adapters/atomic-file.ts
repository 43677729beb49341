import {
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { errorCode } from '../core/model/errors.ts';

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW } = constants;

let tempCounter = 0;

/**
 * The one way kubexit replaces a file that others read (tombstones, installed files): write a
 * fresh dot-file in the same directory (O_EXCL, no-follow: nothing planted there is written
 * through), set its mode explicitly (the umask must not make a tombstone unreadable to a
 * container running as another user), rename it over the target. A reader sees the old file or
 * the new one, never a part.
 *
 * Synchronous and not fsynced: other containers on the same kernel see a renamed file at once
 * (why: docs/design.md, "Tombstone writes").
 */
export function writeAtomically(
  dir: string,
  name: string,
  content: string | Uint8Array,
  mode: number,
): void {
  const temp = writeTemp(dir, content, mode);
  try {
    renameSync(temp, join(dir, name));
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
}

/**
 * Copies a file into place the same way, fsynced (installed files must survive a reboot of the
 * node, tombstones need not). Synchronous like the rest: `install` runs once, alone, in an init
 * container. The kernel copies (copyFile), not one big write (why: docs/design.md, "Installing").
 */
export function copyAtomically(from: string, dir: string, name: string, mode: number): void {
  const temp = tempPath(dir);
  try {
    copyFileSync(from, temp, constants.COPYFILE_EXCL);
    const fd = openSync(temp, O_RDONLY | O_NOFOLLOW);
    try {
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(dir, name));
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
  syncDirectory(dir);
}

/** A new dot-file name in `dir`: unique without node:crypto (it costs start-up time). */
function tempPath(dir: string): string {
  tempCounter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return join(dir, `.kubexit-${process.pid}-${tempCounter}-${random}.tmp`);
}

/** Writes content to a new dot-file in `dir` (ignored by readers); returns its path. */
export function writeTemp(dir: string, content: string | Uint8Array, mode: number): string {
  // O_EXCL catches the unlikely clash of names.
  const temp = tempPath(dir);
  const fd = openSync(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, mode);
    writeAllSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  } catch (error) {
    closeQuietly(fd);
    removeQuietly(temp);
    throw error;
  }
  closeSync(fd);
  return temp;
}

/** Writes all of `bytes` at `position` (a short write is continued, as write(2) allows). */
export function writeAllSync(fd: number, bytes: Uint8Array, position = 0): void {
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (written === 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    done += written;
  }
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Makes a rename durable; some filesystems refuse fsync on directories, which is harmless. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, O_RDONLY);
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {}
  closeQuietly(fd);
}

/**
 * `mkdir -p`, one component at a time. Written by hand because Node's recursive mkdir never
 * returns for a path under /proc (it retries forever at 100% CPU); here any failure other than
 * "already exists" ends it with that error. Returns what `path` is in the end.
 */
export function makeDirectory(path: string): Stats {
  const existing = statOrUndefined(path);
  if (existing !== undefined) return existing;
  const missing: string[] = [path];
  let current = dirname(path);
  while (statOrUndefined(current) === undefined) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  return statSync(path);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

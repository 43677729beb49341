import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode } from '../core/errors.ts';

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW } = constants;

let tempCounter = 0;

/**
 * The one way kubexit replaces a file that others read (tombstones, installed files): write a
 * fresh dot-file in the same directory (O_EXCL, no-follow: nothing planted there is written
 * through), set its mode explicitly (the umask must not make a tombstone unreadable to a
 * container running as another user), fsync it, rename it over the target, fsync the directory.
 * A reader sees the old file or the new one, never a part.
 */
export async function writeAtomically(
  dir: string,
  name: string,
  content: string | Uint8Array,
  mode: number,
): Promise<void> {
  const temp = await writeTemp(dir, content, mode);
  try {
    await rename(temp, join(dir, name));
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * Copies a file into place the same way: a temporary copy, fsynced, renamed over the target. The
 * copy is made by the kernel (copyFile) rather than by one big write: a 100 MiB file written in
 * one go ends up cached in large folios, and every process that runs the copy then maps ~20 MiB
 * more than one running the original.
 */
export async function copyAtomically(
  from: string,
  dir: string,
  name: string,
  mode: number,
): Promise<void> {
  const temp = tempPath(dir);
  try {
    await copyFile(from, temp, constants.COPYFILE_EXCL);
    const handle = await open(temp, O_RDONLY | O_NOFOLLOW);
    try {
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir);
}

/** A new dot-file name in `dir`: unique without node:crypto (it costs start-up time). */
function tempPath(dir: string): string {
  tempCounter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return join(dir, `.kubexit-${process.pid}-${tempCounter}-${random}.tmp`);
}

/** Writes content to a new dot-file in `dir` (ignored by readers), fsynced; returns its path. */
export async function writeTemp(
  dir: string,
  content: string | Uint8Array,
  mode: number,
): Promise<string> {
  // O_EXCL catches the unlikely clash of names.
  const temp = tempPath(dir);
  const handle = await open(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    await handle.chmod(mode);
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  return temp;
}

/** Makes a rename durable; some filesystems refuse fsync on directories, which is harmless. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, O_RDONLY).catch(() => undefined);
  await handle?.sync().catch(() => {});
  await handle?.close().catch(() => {});
}

/**
 * `mkdir -p`, one component at a time. Written by hand because Node's recursive mkdir never
 * returns for a path under /proc (it retries forever at 100% CPU); here any failure other than
 * "already exists" ends it with that error.
 */
export async function makeDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  let current = path;
  while ((await stat(current).catch(() => undefined)) === undefined) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of missing) {
    await mkdir(dir).catch((error: unknown) => {
      if (errorCode(error) !== 'EEXIST') throw error;
    });
  }
}

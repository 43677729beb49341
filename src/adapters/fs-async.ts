import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * The filesystem calls of every container's start-up and of the supervisor's life, as promises
 * over Node's callback API. Not node:fs/promises: loading it costs about 1 ms of every start
 * (it pulls in readline, stream and watcher modules that kubexit never uses through it),
 * measured in the single executable; the callback API comes loaded with Node itself. Commands
 * that run once by hand (install, status, cp) keep using node:fs/promises.
 */
export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const fstat = promisify(fs.fstat);
export const fchmod = promisify(fs.fchmod);
export const fsync = promisify(fs.fsync);
export const ftruncate = promisify(fs.ftruncate);
export const stat = promisify(fs.stat);
export const lstat = promisify(fs.lstat);
export const rename = promisify(fs.rename);
export const unlink = promisify(fs.unlink);
export const mkdir = promisify(fs.mkdir);
export const copyFile = promisify(fs.copyFile);

/** Writes all of `bytes` at `position` (a short write is continued, as write(2) allows). */
export async function writeAll(fd: number, bytes: Uint8Array, position = 0): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await writeAt(fd, bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** Reads up to `buffer.length` bytes from the start of the file. */
export async function readStart(fd: number, buffer: Uint8Array): Promise<number> {
  const { bytesRead } = await readAt(fd, buffer, 0, buffer.length, 0);
  return bytesRead;
}

const writeAt = promisify(
  (
    fd: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    position: number,
    callback: (error: NodeJS.ErrnoException | null, result: { bytesWritten: number }) => void,
  ) =>
    fs.write(fd, bytes, offset, length, position, (error, bytesWritten) =>
      callback(error, { bytesWritten }),
    ),
);

const readAt = promisify(
  (
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
    callback: (error: NodeJS.ErrnoException | null, result: { bytesRead: number }) => void,
  ) =>
    fs.read(fd, buffer, offset, length, position, (error, bytesRead) =>
      callback(error, { bytesRead }),
    ),
);

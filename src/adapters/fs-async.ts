import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * The asynchronous filesystem calls of the supervisor's life (reading tombstones, polling,
 * checks, installing), as promises over Node's callback API. Not node:fs/promises: loading it
 * costs about 1 ms of every start (it pulls in readline, stream and watcher modules that kubexit
 * never uses through it), measured in the single executable; the callback API comes loaded with
 * Node itself. The graveyard's writes are synchronous (see atomic-file.ts); `status` and the
 * `install` directory listing, run once by hand, use node:fs/promises.
 */
export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const fstat = promisify(fs.fstat);
export const fchmod = promisify(fs.fchmod);
export const fsync = promisify(fs.fsync);
export const lstat = promisify(fs.lstat);
export const rename = promisify(fs.rename);
export const unlink = promisify(fs.unlink);
export const copyFile = promisify(fs.copyFile);

/** Reads up to `buffer.length` bytes from the start of the file. */
export function readStart(fd: number, buffer: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, 0, buffer.length, 0, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}

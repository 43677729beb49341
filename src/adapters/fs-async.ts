import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * The few asynchronous filesystem calls left (a readiness check on a file, copying files for
 * `install`), as promises over Node's callback API. Not node:fs/promises: loading it costs about
 * 1 ms of every start (it pulls in readline, stream and watcher modules that kubexit never uses
 * through it), measured in the single executable; the callback API comes loaded with Node
 * itself. The graveyard's reads and writes are synchronous (see atomic-file.ts and
 * fs-graveyard.ts); `status` and the `install` directory listing, run once by hand, use
 * node:fs/promises.
 */
export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const fstat = promisify(fs.fstat);
export const fchmod = promisify(fs.fchmod);
export const fsync = promisify(fs.fsync);
export const rename = promisify(fs.rename);
export const unlink = promisify(fs.unlink);
export const copyFile = promisify(fs.copyFile);

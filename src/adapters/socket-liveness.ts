import { lstatSync, openSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { Liveness } from '../core/ports.ts';
import { removeQuietly } from './atomic-file.ts';
import { askFrontToHold, closeFrontChannel } from './front-channel.ts';

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** More connections than a pod has containers; a flood from a hostile container stops here. */
export const MAX_CONNECTIONS = 1024;
/** Errors meaning nobody listens on the socket: its holder is gone. */
const NOBODY_LISTENS = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTSOCK']);
/** Errors meaning the holder went away while the connection was being made. */
const GONE_WHILE_CONNECTING = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** A full listen backlog (many dependents connecting at once) is worth another try. */
const RETRY_MS = 20;
const RETRIES = 100;
/**
 * A connection that ended is followed by a new one at once, which proves the holder gone (refused,
 * or no socket) or alive. A holder that is dying may still accept it (its listener closes after its
 * connections), a holder out of descriptors accepts and drops every one: after this many
 * connections in a row that each lasted less than REFOLLOW_MS, the next one waits REFOLLOW_MS.
 */
const QUICK_RECONNECTS = 3;
const REFOLLOW_MS = 500;

/**
 * Liveness sockets as unix sockets in the graveyard: `<graveyard>/.<name>.sock`. Containers of a
 * pod share no PID namespace, but they share the graveyard, and a unix socket there is reachable
 * from all of them; its listener lives exactly as long as the supervisor's process.
 */
export class SocketLiveness implements Liveness {
  readonly #dir: string;
  #dirFd: number | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async hold(name: string): Promise<boolean> {
    const path = this.#socketPath(name);
    // Through kubexit's native front when it runs (a write and a read here, instead of Node's
    // cluster and server machinery: ~0.9 ms of every start); its path must be its own, not one
    // through this process's /proc/self/fd.
    const byFront =
      path === undefined || path.startsWith('/proc/self/') ? undefined : askFrontToHold(path);
    closeFrontChannel();
    if (path === undefined) return false;
    // The front removes the file when it ends, as Node does for its own below.
    if (byFront !== undefined) return byFront;
    // Whatever is at the name — the socket of this container's previous run, or something planted
    // — is replaced (unlink removes a symlink, never its target).
    removeQuietly(path);
    const server = createServer((socket) => holdOpen(socket));
    server.maxConnections = MAX_CONNECTIONS;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // Dependents running as other users must be able to connect.
        server.listen({ path, readableAll: true, writableAll: true }, () => resolve());
      });
    } catch {
      return false;
    }
    server.on('error', () => {});
    // Never closed: the kernel closes it when this process ends, which is the whole point.
    server.unref();
    // The file the kernel leaves behind is removed at a normal exit (after the final tombstone):
    // a restart of this container then finds no socket, and spends no connection on it.
    process.once('exit', () => removeQuietly(path));
    return true;
  }

  follow(name: string, onGone: () => void): () => void {
    const path = this.#socketPath(name);
    let stopped = false;
    let socket: Socket | undefined;
    const gone = () => {
      if (stopped) return;
      stopped = true;
      onGone();
    };
    // A connection that ended proves nothing by itself: a holder short of file descriptors
    // accepts and closes at once. Proof is a new connection refused, or no socket at all.
    let quick = 0;
    const reconnect = (lasted: number) => {
      quick = lasted < REFOLLOW_MS ? quick + 1 : 0;
      if (quick <= QUICK_RECONNECTS) return attempt(RETRIES);
      quick = 0;
      setTimeout(() => attempt(RETRIES), REFOLLOW_MS).unref();
    };
    const attempt = (retries: number) => {
      if (stopped || path === undefined) return;
      let connected = false;
      let failure = '';
      const opened = Date.now();
      socket = connect({ path });
      socket.unref();
      socket.on('connect', () => {
        connected = true;
        socket?.resume();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        failure = error.code ?? 'UNKNOWN';
      });
      // Decided when the connection is over, however it ended: a holder that dies while the
      // connection is still being set up resets it (ECONNRESET, EPIPE) before 'connect' is seen.
      socket.on('close', () => {
        if (stopped) return;
        if (NOBODY_LISTENS.has(failure)) return gone();
        if (connected || GONE_WHILE_CONNECTING.has(failure)) return reconnect(Date.now() - opened);
        if (failure === 'EAGAIN' && retries > 0)
          setTimeout(() => attempt(retries - 1), RETRY_MS).unref();
        // Anything else (EACCES on a socket planted by another user): no conclusion either way.
      });
    };
    attempt(RETRIES);
    return () => {
      stopped = true;
      socket?.destroy();
    };
  }

  /** Whether somebody holds `name`'s socket right now (for `kubexit status`); unsure is yes. */
  isHeld(name: string): Promise<boolean> {
    const path = this.#socketPath(name);
    return path === undefined ? Promise.resolve(true) : probe(path);
  }

  async isSurelyHeld(name: string): Promise<boolean> {
    const path = this.#socketPath(name);
    // No socket at all (a first start): nothing to connect to, and no event-loop turn spent. A
    // graveyard that can't be looked into holds nobody's socket; preparing it says what is wrong.
    if (path === undefined || !isSocket(path)) return false;
    return probe(path, { unsure: false });
  }

  /**
   * The socket's path, short enough for sun_path: through /proc/self/fd when the graveyard's own
   * path is too long. Undefined when even that is too long (a name near 100 characters).
   */
  #socketPath(name: string): string | undefined {
    const component = `.${name}.sock`;
    const direct = `${this.#dir}/${component}`;
    if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return direct;
    try {
      this.#dirFd ??= openSync(this.#dir, 'r');
    } catch {
      return undefined;
    }
    const viaFd = `/proc/self/fd/${this.#dirFd}/${component}`;
    return Buffer.byteLength(viaFd) <= MAX_SOCKET_PATH ? viaFd : undefined;
  }
}

/**
 * Whether a new connection to `path` is accepted: false when nobody listens there (refused, or no
 * socket at all); any other failure can't tell, and counts as `unsure`.
 */
function probe(path: string, { unsure = true } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.unref();
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      resolve(NOBODY_LISTENS.has(error.code ?? '') ? false : unsure),
    );
  });
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSocket() ?? false;
  } catch {
    return false;
  }
}

/** A dependent's connection: read and dropped, held until either side goes away. */
function holdOpen(socket: Socket): void {
  socket.on('error', () => {});
  socket.unref();
  socket.resume();
}

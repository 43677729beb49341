import { closeSync, readSync, writeSync } from 'node:fs';

/**
 * The channel to kubexit's native front (native/front.c), which started this process: a socket
 * it names in KUBEXIT_READY_FD. On it, Node says once that its signal handlers are in place, and
 * asks the front once to hold the liveness socket. It is closed before any command or check is
 * started, so that nothing else can talk to the front.
 */
let channel: number | undefined;

/** Takes the channel from the environment (the command never sees the variable) and says ready. */
export function tellFrontReady(env: NodeJS.ProcessEnv = process.env): void {
  const fd = Number(env.KUBEXIT_READY_FD);
  delete env.KUBEXIT_READY_FD;
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, 'R');
    channel = fd;
  } catch {
    // Not the front's channel after all: nothing waits for it.
    closeQuietly(fd);
  }
}

/**
 * Asks the front to hold the liveness socket at `path`: true when it does, false when it can't,
 * undefined when there is no front to ask (run from the sources) or it did not answer. The
 * answer comes at once (the front binds and listens), so it is read synchronously. The channel
 * is closed afterwards: there is nothing more to ask.
 */
export function askFrontToHold(path: string): boolean | undefined {
  const fd = channel;
  if (fd === undefined) return undefined;
  channel = undefined;
  try {
    writeSync(fd, `L${path}\n`);
    const answer = Buffer.alloc(1);
    if (readSync(fd, answer, 0, 1, null) !== 1) return undefined;
    return answer[0] === 0x31; // '1'
  } catch {
    return undefined;
  } finally {
    closeQuietly(fd);
  }
}

/** Closes the channel (before a process is started, which would inherit it). */
export function closeFrontChannel(): void {
  if (channel !== undefined) closeQuietly(channel);
  channel = undefined;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

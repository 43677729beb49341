import { writeSync } from 'node:fs';
import { errorCode } from '../core/model/errors.ts';

/** How long kubexit's exit waits for a log reader to take lines it queued. */
const FLUSH_TIMEOUT_MS = 5000;

/** What the sink needs of process.stderr, for lines that must wait. */
export interface QueueingStream {
  write(chunk: Uint8Array | string): unknown;
  on(event: 'error', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
  readonly writableLength: number;
}

export interface StderrSink {
  write(line: string): void;
  /** Resolves when queued lines are written, or after a few seconds of a stuck reader. */
  flush(): Promise<void>;
}

/**
 * Log lines written straight to file descriptor 2. Not through process.stderr: creating that
 * stream (a net.Socket when stderr is a pipe, the usual case in a pod) cost a few tenths of a
 * millisecond at the first line, in start-up profiles. A line that meets a full non-blocking pipe (EAGAIN) goes to the
 * stream, which queues it, and so does every later line, to keep their order; `flush` lets the
 * exit wait for them. A log reader that went away (EPIPE) or a closed stderr costs the line,
 * never the supervisor (and so never the tombstone). A full blocking pipe blocks, as it does for
 * every process of the container.
 */
export function createStderrSink(
  write: (bytes: Uint8Array) => number = (bytes) => writeSync(2, bytes),
  stream: () => QueueingStream = () => process.stderr,
): StderrSink {
  let queue: QueueingStream | undefined;
  return {
    write(line: string): void {
      if (queue !== undefined) {
        queue.write(line);
        return;
      }
      let bytes = Buffer.from(line, 'utf8');
      try {
        while (bytes.length > 0) bytes = bytes.subarray(write(bytes));
      } catch (error) {
        if (errorCode(error) !== 'EAGAIN') return;
        queue = stream();
        queue.on('error', () => {});
        queue.write(bytes);
      }
    },
    flush(): Promise<void> {
      const pending = queue;
      if (pending === undefined || pending.writableLength === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
        pending.once('drain', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** The process's own. */
export const stderrSink: StderrSink = createStderrSink();

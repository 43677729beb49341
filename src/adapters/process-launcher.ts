import { type ChildProcess, spawn } from 'node:child_process';
import type { ChildResult } from '../core/exit-status.ts';
import type { Child, Launcher, LaunchResult } from '../core/ports.ts';
import type { SignalName } from '../core/signals.ts';

/**
 * Starts the command with Node's child_process: no shell, stdio inherited, in a new session and
 * process group (`detached`), so that a stop signal reaches the whole tree the command starts (a
 * shell script and its `sleep`, a server and its workers), the way a container runtime stops a
 * container. Written on child_process rather than execa, which costs every container ~40 ms of
 * start-up for what is here one spawn call, and whose kill() reaches the child alone.
 */
export class ProcessLauncher implements Launcher {
  launch(command: string, args: readonly string[]): Promise<LaunchResult> {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: 'inherit', detached: true });
    } catch (error) {
      // Node throws, rather than emits, every exec error but five (ETXTBSY, ENOTDIR, ELOOP…):
      // they are the command's failure all the same.
      const { code = 'UNKNOWN', message } = error as NodeJS.ErrnoException;
      return Promise.resolve({ ok: false, errorCode: code, message });
    }
    return new Promise((resolve) => {
      child.once('spawn', () => resolve({ ok: true, child: new ProcessGroupChild(child) }));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return;
        resolve({ ok: false, errorCode: error.code ?? 'UNKNOWN', message: error.message });
      });
    });
  }
}

class ProcessGroupChild implements Child {
  readonly pid: number;
  readonly exited: Promise<ChildResult>;

  constructor(child: ChildProcess) {
    this.pid = child.pid as number;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) =>
        resolve(signal === null ? { exitCode: code ?? 0 } : { signal }),
      );
    });
  }

  groupAlive(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  signalGroup(signal: SignalName): void {
    try {
      // A negative pid addresses the process group the child leads, not the child alone.
      process.kill(-this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

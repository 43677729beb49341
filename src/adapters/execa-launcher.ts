import { execa, type ResultPromise } from 'execa';
import type { ChildResult } from '../core/exit-status.ts';
import type { Child, Launcher, LaunchResult } from '../core/ports.ts';
import type { SignalName } from '../core/signals.ts';

/**
 * Starts the command with execa: no shell, stdio inherited, in a new session and process group
 * (`detached`), so that a stop signal reaches the whole tree the command starts (a shell script
 * and its `sleep`, a server and its workers), the way a container runtime stops a container.
 */
export class ExecaLauncher implements Launcher {
  async launch(command: string, args: readonly string[]): Promise<LaunchResult> {
    const subprocess = execa(command, args, {
      stdio: 'inherit',
      detached: true,
      reject: false,
      cleanup: false,
      buffer: false,
      forceKillAfterDelay: false,
    });
    const pid = subprocess.pid;
    if (pid === undefined) {
      const result = await subprocess;
      return {
        ok: false,
        errorCode: result.code ?? 'UNKNOWN',
        message: result.originalMessage ?? result.shortMessage ?? 'spawn failed',
      };
    }
    return { ok: true, child: new ProcessGroupChild(pid, subprocess) };
  }
}

class ProcessGroupChild implements Child {
  readonly pid: number;
  readonly exited: Promise<ChildResult>;

  constructor(pid: number, subprocess: ResultPromise) {
    this.pid = pid;
    this.exited = subprocess.then(
      (result) =>
        result.signal === undefined
          ? { exitCode: result.exitCode ?? 0 }
          : { signal: result.signal },
      () => ({ exitCode: 255 }),
    );
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
      // A negative pid addresses the process group the child leads (execa's kill() targets only
      // the child itself, which would leave a shell's children running).
      process.kill(-this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

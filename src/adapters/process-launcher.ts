import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ChildResult } from '../core/model/child-exit.ts';
import type { SignalName } from '../core/model/signals.ts';
import type { Child, Launcher, LaunchResult } from '../core/ports.ts';
import { closeFrontChannel } from './front-channel.ts';

/**
 * Starts the command with Node's child_process: no shell, stdio inherited, in a new session and
 * process group (`detached`), so that a stop signal reaches the whole tree the command starts (a
 * shell script and its `sleep`, a server and its workers), the way a container runtime stops a
 * container. On child_process, not execa (why: docs/design.md, "Starting a command").
 */
export class ProcessLauncher implements Launcher {
  launch(command: string, args: readonly string[]): Promise<LaunchResult> {
    // A command must not inherit the channel to kubexit's front.
    closeFrontChannel();
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

/**
 * Whether process group `group` has a member that is not a zombie, from /proc; undefined when
 * /proc can't be read (then kill(0) alone decides).
 */
function hasLiveMember(group: number): boolean | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid: /proc's other entries start with a letter
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // ended meanwhile
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'Z' && state !== 'X') return true;
  }
  return false;
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
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
    // kill(0) answers for zombies too: members that ended but that nobody reaped, as under a
    // PID 1 that reaps only its own children (Node from the sources). They hold nothing.
    return hasLiveMember(this.pid) ?? true;
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

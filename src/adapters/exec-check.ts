import { spawn } from 'node:child_process';
import type { ProbeResult } from '../core/ports.ts';
import { closeFrontChannel } from './front-channel.ts';

/** Output kept for the log line that says why a check failed. */
const MAX_OUTPUT_BYTES = 4096;
/** After a failed exit, how long output still in the pipes may take to arrive. */
const OUTPUT_GRACE_MS = 100;

/**
 * Runs an `exec:` check: the command exits 0 within `timeoutMs`. No shell.
 *
 * Written on child_process rather than execa: a check ends when its command exits or its time is
 * up, whatever the processes it started do. execa's result waits for stdout and stderr to close,
 * so a background process that inherited them (`sh -c 'server & …'`) kept a check pending
 * forever, past its timeout, and its timeout kills only the direct child. Here the command runs
 * in its own process group, the check ends on `exit` or at the deadline, and the whole group is
 * then killed, so nothing a check started outlives it.
 */
export function probeExec(
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const output = { stdout: '', stderr: '' };
    // A command must not inherit the channel to kubexit's front.
    closeFrontChannel();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => {
        if (output[stream].length < MAX_OUTPUT_BYTES) output[stream] += chunk.toString('utf8');
      });
    }
    const finish = (result: ProbeResult) => {
      clearTimeout(timer);
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `no exit within ${timeoutMs}ms` }),
      timeoutMs,
    );
    child.once('error', (error: NodeJS.ErrnoException) => {
      const detail =
        error.code === 'ENOENT' ? `command not found: ${command}` : (error.code ?? error.message);
      finish({ ok: false, detail });
    });
    child.once('exit', (code, signal) => {
      if (code === 0) return finish({ ok: true, detail: 'exit 0' });
      const how = code === null ? (signal ?? 'failed') : `exit ${code}`;
      const explain = () => {
        const said = (output.stderr || output.stdout).trim().split('\n')[0]?.slice(0, 120);
        finish({ ok: false, detail: said ? `${how}: ${said}` : how });
      };
      // The pipes close when the last process holding them does: maybe never. Wait a little.
      const late = setTimeout(explain, OUTPUT_GRACE_MS);
      child.once('close', () => {
        clearTimeout(late);
        explain();
      });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

/** The CLI under test: the repository's bin, or another build named by KUBEXIT_BIN. */
export const KUBEXIT_BIN = process.env.KUBEXIT_BIN
  ? resolve(process.env.KUBEXIT_BIN)
  : fileURLToPath(new URL('../../bin/kubexit.js', import.meta.url));

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
}

/**
 * The test runner's environment without the variables that choose what to test (KUBEXIT_BIN: a
 * supervisor would rightly warn about it as unknown).
 */
export function testRunnerEnv(): NodeJS.ProcessEnv {
  const { KUBEXIT_BIN: _bin, NODE_OPTIONS: _options, ...rest } = process.env;
  return rest;
}

/**
 * Every supervisor is started through `env -u NODE_OPTIONS`, which then execs it (same pid): tap
 * puts a module of its own into NODE_OPTIONS of every process the tests spawn, whatever env they
 * pass, and that module's signal handlers would make kubexit run from the sources another
 * kubexit than users run (a SIGTERM during start-up found its handler alone, which re-raised it:
 * the stress run's flake). Removing the variable from the env given to spawn is not enough.
 */
export const WITHOUT_NODE_OPTIONS = ['env', '-u', 'NODE_OPTIONS'];

/** A running supervisor: its process, its output so far, and how it ended. */
export class Container {
  readonly process: ChildProcess;
  readonly finished: Promise<Finished>;
  stderr = '';
  stdout = '';

  /**
   * `launcher` runs before kubexit (unshare, sh -c …); with `raw`, `args` is the whole command
   * and kubexit is not added (the command names the kubexit to run, e.g. inside a chroot).
   */
  constructor(
    args: readonly string[],
    env: Record<string, string>,
    launcher: readonly string[] = [],
    { raw = false } = {},
  ) {
    const kubexit = raw ? [] : binCommand();
    // A test's own NODE_OPTIONS (what a container sets) is given again after tap's is removed.
    const own = env.NODE_OPTIONS === undefined ? [] : [`NODE_OPTIONS=${env.NODE_OPTIONS}`];
    const [command, ...rest] = [...WITHOUT_NODE_OPTIONS, ...own, ...launcher, ...kubexit, ...args];
    this.process = spawn(command as string, rest, {
      env: { ...testRunnerEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.finished = new Promise((resolve) => {
      this.process.on('close', (code, signal) =>
        resolve({ code, signal, stderr: this.stderr, stdout: this.stdout }),
      );
    });
  }

  /** Waits until the supervisor has logged something matching. */
  async logged(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => pattern.test(this.stderr), `log line ${pattern} in:\n${this.stderr}`, {
      timeoutMs,
    });
  }

  /** How it ended, failing with `what` if that takes longer than `timeoutMs`. */
  async finishedWithin(timeoutMs: number, what: string): Promise<Finished> {
    let ended: Finished | undefined;
    void this.finished.then((result) => {
      ended = result;
    });
    return waitFor(() => ended, what, { timeoutMs });
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }
}

/** `node bin/kubexit.js` on the Node running the tests, or a built binary. */
export function binCommand(): string[] {
  return KUBEXIT_BIN.endsWith('.js') ? [process.execPath, KUBEXIT_BIN] : [KUBEXIT_BIN];
}

/** Starts `kubexit <args>` as container `name` of a pod whose graveyard is `graveyard`. */
export function startContainer(
  graveyard: string,
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Container {
  return new Container(args, {
    KUBEXIT_NAME: name,
    KUBEXIT_GRAVEYARD: graveyard,
    KUBEXIT_LOG_LEVEL: 'debug',
    ...env,
  });
}

/** Reads a tombstone as text, or '' when absent. */
export function tombstoneText(graveyard: string, name: string): string {
  try {
    return readFileSync(join(graveyard, name), 'utf8');
  } catch {
    return '';
  }
}

/** Waits until a tombstone matches (e.g. it has a Died line). */
export async function tombstoneMatching(
  graveyard: string,
  name: string,
  pattern: RegExp,
): Promise<string> {
  return waitFor(() => {
    const text = tombstoneText(graveyard, name);
    return pattern.test(text) ? text : '';
  }, `tombstone ${name} to match ${pattern}`);
}

/** A child command that runs until signalled: a shell that sleeps in the background and waits. */
export const LONG_RUNNING = ['sh', '-c', 'sleep 300 & wait'];

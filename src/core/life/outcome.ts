import { type ChildResult, exitCodeOf } from '../model/child-exit.ts';
import { describeError, isSupervisorError } from '../model/errors.ts';
import { EXIT_CODES } from '../model/exit-codes.ts';
import { type SignalName, signalNumber } from '../model/signals.ts';
import type { StopReason } from '../model/tombstone.ts';

/** How the container's life ended. `exitCode` is both the process exit code and the tombstone's. */
export interface Outcome {
  readonly exitCode: number;
  readonly reason: StopReason;
  readonly message: string;
  /** The signal that killed the child, or ended kubexit before the child started. */
  readonly signal?: string;
  /**
   * The dependencies involved: the death dependencies that stopped the command, or the birth
   * dependencies it waited for in vain.
   */
  readonly dependencies?: readonly string[];
}

/**
 * The child ended; `stoppedBy` names the death dependencies whose death made kubexit stop it (if
 * it did), `forwarded` which stop signal kubexit received and forwarded to it first (the pod
 * deleted, `docker stop`), if any.
 */
export function childOutcome(
  result: ChildResult,
  stoppedBy: readonly string[] | undefined,
  ignoreCode: boolean,
  forwarded?: SignalName,
): Outcome {
  const code = exitCodeOf(result);
  const how =
    result.signal === undefined
      ? `exited with code ${code}`
      : `was killed by ${result.signal} (exit ${code})`;
  if (stoppedBy === undefined && forwarded !== undefined)
    return {
      exitCode: code,
      reason: 'stopped',
      signal: result.signal,
      message: `child ${how} after kubexit received ${forwarded} and forwarded it`,
    };
  if (stoppedBy === undefined)
    return { exitCode: code, reason: 'exited', signal: result.signal, message: `child ${how}` };
  const why = ignoreCode ? '; exiting 0 because death dependencies stopped it' : '';
  return {
    exitCode: ignoreCode ? 0 : code,
    reason: 'death-deps',
    signal: result.signal,
    dependencies: stoppedBy,
    message: `child ${how}${why}`,
  };
}

/**
 * The command could not be started: 127 when it doesn't exist, 126 for every other reason it
 * can't be run (as the shell decides), each with the cause named.
 */
export function spawnFailure(command: string, errorCode: string, message: string): Outcome {
  if (errorCode === 'ENOENT') {
    const fix = command.includes('/')
      ? 'check the path'
      : 'check the name and PATH, or give an absolute path';
    return {
      exitCode: EXIT_CODES.notFound,
      reason: 'spawn-failed',
      message: `command not found: ${command} (${fix})`,
    };
  }
  if (errorCode === 'EACCES' || errorCode === 'ENOEXEC' || errorCode === 'EISDIR') {
    const fix = 'make sure it is an executable file (chmod +x) with a valid interpreter line';
    return {
      exitCode: EXIT_CODES.notExecutable,
      reason: 'spawn-failed',
      message: `command not executable: ${command} (${errorCode}; ${fix})`,
    };
  }
  const cause = SPAWN_CAUSES[errorCode] ?? message;
  return {
    exitCode: EXIT_CODES.notExecutable,
    reason: 'spawn-failed',
    message: `could not start ${command} (${errorCode}: ${cause})`,
  };
}

/** What the other errors of exec mean for whoever wrote the command; 126 for all, as the shell. */
const SPAWN_CAUSES: Readonly<Record<string, string>> = {
  ETXTBSY:
    'it is being written: wait until it is complete, e.g. an init container still copying it',
  ENOTDIR: 'a part of the path is not a directory: check the path',
  ELOOP: 'symbolic links loop: check where the links in the path point',
  ENAMETOOLONG: 'the name is too long: check the path',
  E2BIG: 'the arguments and environment are too long together',
  ENOMEM: 'out of memory: raise the container memory limit',
};

/** Death dependencies died before the child could start. */
export function deathBeforeStart(dead: readonly string[]): Outcome {
  // The child never ran, so there is no code of its own to keep: this container did not fail.
  const names = dead.map((name) => `"${name}"`).join(', ');
  return {
    exitCode: 0,
    reason: 'death-deps-before-start',
    dependencies: dead,
    message: `death dependency ${names} already died: not starting the command (exit 0)`,
  };
}

/**
 * Birth dependencies were not ready in time: `pending` names each missing one, `described` says
 * why each is missing.
 */
export function birthTimeout(
  after: string,
  pending: readonly string[],
  described: string,
): Outcome {
  return {
    exitCode: EXIT_CODES.birthTimeout,
    reason: 'birth-timeout',
    dependencies: pending,
    message: `birth dependencies not ready after ${after}: ${described}; not starting the command`,
  };
}

/** A terminating signal arrived before the child started: 128+N, as if it had killed it. */
export function signalBeforeStart(signal: SignalName): Outcome {
  const exitCode = 128 + (signalNumber(signal) ?? 0);
  return {
    exitCode,
    reason: 'signal-before-start',
    signal,
    message: `received ${signal} before the command started (exit ${exitCode})`,
  };
}

/**
 * An error ended kubexit before or instead of its child: one of ours carries its exit code (an
 * invalid configuration, an unusable graveyard or credentials: 2); anything else is a bug (125).
 */
export function failureOutcome(error: unknown): Outcome {
  if (isSupervisorError(error))
    return { exitCode: error.exitCode, reason: 'config-error', message: error.message };
  return {
    exitCode: EXIT_CODES.internal,
    reason: 'internal-error',
    message: `internal error (please report it): ${describeError(error)}`,
  };
}

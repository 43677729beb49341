import { signalNumber } from './signals.ts';

/** How a child process ended: exactly one of the two is set. */
export interface ChildResult {
  readonly exitCode?: number;
  readonly signal?: string;
}

/**
 * The exit code that tells the truth about a child: its own code, or 128+N when signal N killed
 * it. kubexit reported -1 (exit 255) for a signal, which fails Jobs for the wrong reason.
 */
export function exitCodeOf(result: ChildResult): number {
  if (result.exitCode !== undefined) return result.exitCode;
  const number = result.signal === undefined ? undefined : signalNumber(result.signal);
  return number === undefined ? 128 : 128 + number;
}

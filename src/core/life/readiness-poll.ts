import type { CheckSpec } from '../model/checks.ts';
import type { Clock, ProbeResult, Prober } from '../ports.ts';

export interface ReadinessPoll {
  /** Resolves when the check first passes; stays pending once cancelled. */
  readonly ready: Promise<void>;
  cancel(): void;
}

export interface PollOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Sees every attempt's result, e.g. to remember why it is not ready yet. */
  readonly onResult?: (result: ProbeResult) => void;
}

/**
 * Tries a check until it passes: one attempt at a time, the next `intervalMs` after the previous
 * one ended, so a slow endpoint is never hit by overlapping attempts.
 */
export function pollUntilReady(
  check: CheckSpec,
  ports: { prober: Prober; clock: Clock },
  options: PollOptions,
): ReadinessPoll {
  let cancelled = false;
  let cancelTimer = () => {};
  const ready = new Promise<void>((resolve) => {
    const attempt = async (): Promise<void> => {
      if (cancelled) return;
      const result = await ports.prober.probe(check, options.timeoutMs);
      if (cancelled) return;
      options.onResult?.(result);
      if (result.ok) resolve();
      else cancelTimer = ports.clock.setTimer(options.intervalMs, () => void attempt());
    };
    void attempt();
  });
  return {
    ready,
    cancel: () => {
      cancelled = true;
      cancelTimer();
    },
  };
}

import { formatTimestamp } from '../core/model/tombstone.ts';
import type { Clock } from '../core/ports.ts';

/** Node's timers take at most 2^31-1 ms (24.8 days); a longer delay would fire after 1 ms. */
const LONGEST_TIMER_MS = 2_147_483_647;

/**
 * Wall-clock time with nanosecond resolution: the clock read once, advanced by the monotonic
 * high-resolution timer (not the `performance` global, which costs start-up time to set up).
 */
const START_NANOS = BigInt(Date.now()) * 1_000_000n;
const START_HRTIME = process.hrtime.bigint();

/** Wall-clock time with sub-millisecond precision, and cancellable timers of any length. */
export class SystemClock implements Clock {
  now(): string {
    return formatTimestamp(START_NANOS + (process.hrtime.bigint() - START_HRTIME));
  }

  /** Longer delays than Node's timers allow are waited for in steps (kubexit accepts `1000h`). */
  setTimer(ms: number, callback: () => void): () => void {
    let timer: NodeJS.Timeout;
    const wait = (left: number) => {
      const step = Math.min(left, LONGEST_TIMER_MS);
      timer = setTimeout(() => (left > step ? wait(left - step) : callback()), step);
    };
    wait(ms);
    return () => clearTimeout(timer);
  }
}

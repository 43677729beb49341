import type { Clock } from '../core/ports.ts';
import { formatTimestamp } from '../core/tombstone.ts';

/** Node's timers take at most 2^31-1 ms (24.8 days); a longer delay would fire after 1 ms. */
const LONGEST_TIMER_MS = 2_147_483_647;

/** Wall-clock time with sub-millisecond precision, and cancellable timers of any length. */
export class SystemClock implements Clock {
  now(): string {
    const nanos = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    return formatTimestamp(nanos);
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

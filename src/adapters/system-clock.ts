import type { Clock } from '../core/ports.ts';
import { formatTimestamp } from '../core/tombstone.ts';

/** Wall-clock time with sub-millisecond precision, and cancellable timers. */
export class SystemClock implements Clock {
  now(): string {
    const nanos = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    return formatTimestamp(nanos);
  }

  setTimer(ms: number, callback: () => void): () => void {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  }
}

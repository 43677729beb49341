import { formatDuration } from '../core/model/duration.ts';
import type { Clock, Logger } from '../core/ports.ts';

/**
 * The supervisor's own memory: runtime tuning, kept out of the core's story of a container's life.
 *
 * V8 collects when JavaScript allocates, and a supervisor that waits allocates little: start-up's
 * garbage, and what every re-read of the dependencies leaves, would stay resident for the whole
 * Job and keep growing. So the heap is compacted once start-up is over, then every
 * COMPACT_EVERY_MS, while waiting for birth dependencies and while the child runs; a death that
 * comes meanwhile is seen right after (design decisions: docs/design.md).
 */
export interface Heap {
  /**
   * Collects garbage and gives the memory no longer needed back to the system. Returns how long
   * that took in milliseconds, or undefined where the runtime doesn't allow it.
   */
  compact(): number | undefined;
}

/**
 * How long after start the start-up garbage is given back: by then start-up is over, and a
 * container that ends sooner never pays for it. Each supervisor picks its moment within a further
 * COMPACT_SPREAD_MS, so that the containers of a pod started together don't all compact at once.
 */
export const COMPACT_AFTER_MS = 1_000;
export const COMPACT_SPREAD_MS = 2_000;
/** How often the heap is compacted after that, for as long as the supervisor lives. */
export const COMPACT_EVERY_MS = 60_000;

/** Compacts `heap` after start-up, then periodically; returns what stops it. */
export function scheduleCompaction(heap: Heap, clock: Clock, logger: Logger): () => void {
  let stopRepeating = () => {};
  const repeat = () => {
    const cancel = clock.setTimer(COMPACT_EVERY_MS, () => {
      heap.compact();
      repeat();
    });
    stopRepeating = cancel;
  };
  const first = () => {
    const ms = heap.compact();
    if (ms === undefined) return;
    logger.debug(
      `heap compacted, start-up's garbage given back (${ms.toFixed(1)} ms); again every ${formatDuration(COMPACT_EVERY_MS)}`,
    );
    repeat();
  };
  const after = COMPACT_AFTER_MS + Math.floor(Math.random() * COMPACT_SPREAD_MS);
  const cancelFirst = clock.setTimer(after, first);
  return () => {
    cancelFirst();
    stopRepeating();
  };
}

import type { Heap } from '../core/ports.ts';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's heap, compacted with the collector the executable exposes (`--expose-gc`, one of its V8
 * flags; from source there is none and compact() does nothing).
 *
 * Why by hand: V8 collects when JavaScript allocates, and a supervisor that waits hardly does, so
 * the garbage of start-up (a few hundred KiB of parsing, spawning and first-run objects) and the
 * young generation it grew into stayed resident for the whole life of the Job — in every
 * container. A "last resort" collection is the one that also shrinks the young generation and
 * returns freed pages to the system; a plain full collection was measured to leave memory higher
 * than before (BENCHMARKS.md, idle cost).
 */
export class V8Heap implements Heap {
  compact(): number | undefined {
    const collect = (globalThis as { gc?: Collect }).gc;
    if (typeof collect !== 'function') return undefined;
    const started = process.hrtime.bigint();
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    return Number(process.hrtime.bigint() - started) / 1e6;
  }
}

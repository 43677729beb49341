import type { Heap } from './heap-compaction.ts';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's heap, compacted with V8's own collector.
 *
 * Why by hand: V8 collects when JavaScript allocates, and a supervisor that waits hardly does, so
 * the garbage of start-up (parsing, spawning, first-run objects) and the young generation it grew
 * into stayed resident for the whole life of the Job, in every container. A "last resort"
 * collection is the one that also shrinks the young generation and returns freed pages to the
 * system; a plain full collection was measured to leave memory higher than before.
 *
 * The collector is taken from a context made while `--expose-gc` is set, for that moment only.
 * As one of the executable's flags it cost every start ~5 ms: V8 checks each code cache against
 * a hash of its flags, and refused the caches of Node's own modules, made without it. Set and
 * unset again, the flags hash as before, and every code cache is still accepted (tested).
 */
export class V8Heap implements Heap {
  #collect: Collect | null | undefined;

  compact(): number | undefined {
    this.#collect ??= exposeCollector();
    if (this.#collect === null) return undefined;
    const started = process.hrtime.bigint();
    this.#collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    return Number(process.hrtime.bigint() - started) / 1e6;
  }
}

/** V8's collector as a function, or null where this runtime won't give it. */
function exposeCollector(): Collect | null {
  // Loaded here, not at start-up: nothing else needs these modules.
  const v8 = process.getBuiltinModule('node:v8');
  const vm = process.getBuiltinModule('node:vm');
  try {
    v8.setFlagsFromString('--expose-gc');
    const collect: unknown = vm.runInNewContext('gc');
    return typeof collect === 'function' ? (collect as Collect) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

import type { Heap } from './heap-compaction.ts';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's heap, compacted with V8's own "last resort" collector, taken from a context made while
 * `--expose-gc` is set for that moment only (why: docs/design.md, "The heap").
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

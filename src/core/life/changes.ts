/**
 * "Something may have changed": a dependency's tombstone, a signal, a timer. Whoever waits for a
 * condition awaits `next()` and re-evaluates it; whoever changes something calls `notify()`.
 */
export class Changes {
  #waiters: Array<() => void> = [];

  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  notify(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

import { closeSync, writeSync } from 'node:fs';
import { FORWARDED_SIGNALS, type SignalName } from '../core/model/signals.ts';
import type { SignalSource } from '../core/ports.ts';

/**
 * The supervisor's own signals. Listeners are installed as soon as this is constructed — the
 * entry point does so before loading anything else — and signals that arrive before anyone
 * subscribes are kept and replayed in order. Without that, a SIGTERM during the few hundred
 * milliseconds Node needs to load would kill kubexit with Node's default action, leaving no
 * tombstone. Listening also replaces that default action for good.
 */
export class ProcessSignals implements SignalSource {
  readonly #target: NodeJS.EventEmitter;
  readonly #pending: SignalName[] = [];
  #handler: ((signal: SignalName) => void) | undefined;
  readonly #listeners: Array<readonly [SignalName, () => void]>;

  constructor(
    target: NodeJS.EventEmitter = process,
    signals: readonly SignalName[] = FORWARDED_SIGNALS,
  ) {
    this.#target = target;
    this.#listeners = signals.map((signal) => [signal, () => this.#receive(signal)] as const);
    for (const [signal, listener] of this.#listeners) target.on(signal, listener);
  }

  subscribe(handler: (signal: SignalName) => void): () => void {
    this.#handler = handler;
    for (const signal of this.#pending.splice(0)) handler(signal);
    return () => {
      this.#handler = undefined;
    };
  }

  settle(): Promise<void> {
    // setImmediate runs after the event loop's poll phase, where libuv hands signals over.
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Removes the listeners (tests; the process itself keeps them until it exits). */
  dispose(): void {
    for (const [signal, listener] of this.#listeners) this.#target.off(signal, listener);
  }

  #receive(signal: SignalName): void {
    if (this.#handler === undefined) this.#pending.push(signal);
    else this.#handler(signal);
  }
}

/**
 * Tells kubexit's native front (native/front.c), which started this process and holds the
 * signals that arrived meanwhile, that the handlers are in place: one byte on the pipe it names
 * in KUBEXIT_READY_FD. The variable is removed first so the supervised command never sees it.
 * Without a front (run from source, or tests) there is nothing to do.
 */
export function tellFrontSignalsReady(env: NodeJS.ProcessEnv = process.env): void {
  const fd = Number(env.KUBEXIT_READY_FD);
  delete env.KUBEXIT_READY_FD;
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, 'R');
    closeSync(fd);
  } catch {
    // Not a pipe from the front after all: nothing waits for it.
  }
}

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
 * signals that arrived meanwhile, that the handlers are in place (see front-channel.ts).
 */
export { tellFrontReady as tellFrontSignalsReady } from './front-channel.ts';

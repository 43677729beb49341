import type { SignalSource } from '../core/ports.ts';
import { FORWARDED_SIGNALS, type SignalName } from '../core/signals.ts';

/** The supervisor's own signals. Listening also stops Node's default action (exiting). */
export class ProcessSignals implements SignalSource {
  readonly #target: NodeJS.EventEmitter;
  readonly #signals: readonly SignalName[];

  constructor(
    target: NodeJS.EventEmitter = process,
    signals: readonly SignalName[] = FORWARDED_SIGNALS,
  ) {
    this.#target = target;
    this.#signals = signals;
  }

  subscribe(handler: (signal: SignalName) => void): () => void {
    const listeners = this.#signals.map((signal) => {
      const listener = () => handler(signal);
      this.#target.on(signal, listener);
      return [signal, listener] as const;
    });
    return () => {
      for (const [signal, listener] of listeners) this.#target.off(signal, listener);
    };
  }
}

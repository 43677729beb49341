import { readFileSync } from 'node:fs';
import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';
import { DEFAULT_CONFIG, parseWebhookConfig, type WebhookConfig } from './config.ts';
import type { Log } from './log.ts';
import type { WebhookMetrics } from './metrics.ts';

/** The configuration file, read again when it changes; a bad one keeps the previous. */
export class ConfigFile {
  readonly #file: string | undefined;
  readonly #metrics: WebhookMetrics;
  readonly #log: Log;
  #text: string | undefined;
  #current: WebhookConfig;
  #timer: NodeJS.Timeout | undefined;

  constructor(file: string | undefined, metrics: WebhookMetrics, log: Log) {
    this.#file = file;
    this.#metrics = metrics;
    this.#log = log;
    this.#text = file === undefined ? undefined : this.#read(file);
    this.#current =
      file === undefined || this.#text === undefined
        ? DEFAULT_CONFIG
        : parseWebhookConfig(this.#text, file);
  }

  get current(): WebhookConfig {
    return this.#current;
  }

  watch(intervalMs: number): void {
    if (this.#file === undefined) return;
    this.#timer = setInterval(() => this.#reload(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #read(file: string): string {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new SupervisorError(
        `kubexit webhook: could not read the configuration ${file} (${(error as NodeJS.ErrnoException).code}): mount the ConfigMap there, or leave out --config`,
        EXIT_CODES.config,
      );
    }
  }

  #reload(): void {
    const file = this.#file as string;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      this.#metrics.reload('config', 'error');
      this.#log(
        'warn',
        `configuration not reloaded (${(error as NodeJS.ErrnoException).code}): the previous one is kept`,
      );
      return;
    }
    if (text === this.#text) return;
    this.#text = text;
    try {
      this.#current = parseWebhookConfig(text, file);
      this.#metrics.reload('config', 'ok');
      this.#log('info', 'configuration reloaded', { presets: this.#current.presets });
    } catch (error) {
      this.#metrics.reload('config', 'error');
      this.#log('error', `${(error as Error).message}; the previous configuration is kept`);
    }
  }
}

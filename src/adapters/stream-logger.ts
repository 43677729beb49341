import type { LogFormat, LogLevel } from '../core/model/config.ts';
import { redactSecrets } from '../core/model/redact.ts';
import type { LogFields, Logger } from '../core/ports.ts';
import { stderrSink } from './stderr-sink.ts';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where log lines go: stderr in production, an array in tests. */
export interface LineSink {
  write(line: string): unknown;
}

export interface StreamLoggerOptions {
  /** The container's name; undefined when it is not known (an invalid configuration). */
  readonly name: string | undefined;
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly sink?: LineSink;
  readonly now?: () => string;
}

/**
 * Logs to stderr (stdout belongs to the child), each line prefixed with the container name so
 * interleaved logs of a pod stay readable; or one JSON object per line for log pipelines.
 */
export class StreamLogger implements Logger {
  readonly #options: StreamLoggerOptions;
  readonly #sink: LineSink;

  constructor(options: StreamLoggerOptions) {
    this.#options = options;
    this.#sink = options.sink ?? stderrSink;
  }

  debug(message: string, fields?: LogFields): void {
    this.#log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.#log('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.#log('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.#log('error', message, fields);
  }

  #log(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (RANK[level] < RANK[this.#options.level]) return;
    this.#sink.write(`${this.#format(level, message, fields)}\n`);
  }

  /** Every line and field without credentials (see core/model/redact.ts). */
  #format(level: LogLevel, rawMessage: string, rawFields: LogFields | undefined): string {
    const { name, format } = this.#options;
    const message = redactSecrets(rawMessage);
    const fields = rawFields === undefined ? undefined : redactFields(rawFields);
    if (format === 'json') {
      const time = this.#options.now?.() ?? new Date().toISOString();
      return JSON.stringify({ time, level, name, msg: message, ...fields });
    }
    const label = level === 'info' ? '' : `${level}: `;
    const extra = level === 'debug' && fields !== undefined ? ` ${JSON.stringify(fields)}` : '';
    return `kubexit${name === undefined ? '' : `[${name}]`}: ${label}${message}${extra}`;
  }
}

function redactFields(fields: LogFields): LogFields {
  const redacted: Record<string, LogFields[string]> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string') redacted[key] = redactSecrets(value);
    else if (Array.isArray(value)) redacted[key] = value.map((item: string) => redactSecrets(item));
    else redacted[key] = value;
  }
  return redacted;
}

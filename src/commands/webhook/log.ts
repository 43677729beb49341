import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';

/** A line on stderr per event: text for people, or one JSON object per line for a log pipeline. */
export type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;

export function loggerOf(format: string): Log {
  if (format !== 'text' && format !== 'json')
    throw new SupervisorError(
      `kubexit webhook: --log-format ${format} is not a format: use text or json`,
      EXIT_CODES.config,
    );
  return (level, message, fields = {}) => {
    const line =
      format === 'json'
        ? JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })
        : `kubexit webhook: ${level}: ${message}${Object.entries(fields)
            .filter(([, value]) => value !== undefined)
            .map(
              ([key, value]) =>
                ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
            )
            .join('')}`;
    process.stderr.write(`${line}\n`);
  };
}

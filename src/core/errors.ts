import type { RestartPolicy } from './config.ts';
import { EXIT_CODES } from './exit-codes.ts';

/** An error that ends kubexit with a specific exit code. Only the composition root exits. */
export class SupervisorError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'SupervisorError';
    this.exitCode = exitCode;
  }
}

/** What an invalid configuration still tells, each when valid: enough to end properly. */
export interface KnownSettings {
  readonly name?: string;
  readonly graveyard?: string;
  readonly shutdownUrls?: readonly string[];
  readonly shutdownOnSuccessOnly?: boolean;
  readonly shutdownTimeoutMs?: number;
  readonly restartPolicy?: RestartPolicy;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat?: 'text' | 'json';
}

/**
 * Invalid configuration (exit 2). Carries the settings that were valid, so a tombstone can still
 * be written and the shutdown URLs called: no dependent container waits forever.
 */
export class ConfigError extends SupervisorError {
  readonly problems: readonly string[];
  readonly known: KnownSettings;

  constructor(problems: readonly string[], known: KnownSettings = {}) {
    super(formatProblems(problems), EXIT_CODES.config);
    this.name = 'ConfigError';
    this.problems = problems;
    this.known = known;
  }

  get containerName(): string | undefined {
    return this.known.name;
  }
}

/** The graveyard can't be created or written (exit 2): nothing would see our tombstone. */
export class GraveyardError extends SupervisorError {
  constructor(message: string) {
    super(message, EXIT_CODES.config);
    this.name = 'GraveyardError';
  }
}

function formatProblems(problems: readonly string[]): string {
  if (problems.length === 1) return `invalid configuration: ${problems[0]}`;
  return `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}

/**
 * Whether an error ends kubexit with its own exit code. By shape as well as by class: code loaded
 * from a separate bundle (the Kubernetes adapter in the single executable) has its own copy of
 * the class.
 */
export function isSupervisorError(error: unknown): error is SupervisorError {
  if (error instanceof SupervisorError) return true;
  return error instanceof Error && error.name === 'SupervisorError' && 'exitCode' in error;
}

/** An error's message, or the thrown value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The errno code of a Node system error (ENOENT, EACCES…), or the error as text. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(error);
}

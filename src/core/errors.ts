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

/**
 * Invalid configuration (exit 2). Carries the name and graveyard when those were valid, so a
 * tombstone can still be written and no dependent container waits forever.
 */
export class ConfigError extends SupervisorError {
  readonly problems: readonly string[];
  readonly containerName?: string;
  readonly graveyard?: string;

  constructor(problems: readonly string[], known: { name?: string; graveyard?: string } = {}) {
    super(formatProblems(problems), EXIT_CODES.config);
    this.name = 'ConfigError';
    this.problems = problems;
    this.containerName = known.name;
    this.graveyard = known.graveyard;
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

/** An error's message, or the thrown value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The errno code of a Node system error (ENOENT, EACCES…), or the error as text. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(error);
}

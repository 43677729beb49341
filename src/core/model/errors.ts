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

/** The graveyard can't be created or written (exit 2): nothing would see our tombstone. */
export class GraveyardError extends SupervisorError {
  constructor(message: string) {
    super(message, EXIT_CODES.config);
    this.name = 'GraveyardError';
  }
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

/**
 * Exit codes kubexit uses for its own outcomes. Everything else is the child's truth: its own
 * exit code, or 128+N when a signal N killed it (the convention of shells, tini and Argo).
 */
export const EXIT_CODES = {
  /** A birth dependency did not become ready within the birth timeout. */
  birthTimeout: 1,
  /** The configuration is invalid or the graveyard can't be used (a subcommand's too). */
  config: 2,
  /** A subcommand could not do its work: install's copy, cp (which exits 1, as cp does). */
  failed: 1,
  /** kubexit itself failed unexpectedly (a bug or an environment it can't handle). */
  internal: 125,
  /** The command exists but can't be executed (permission, not a binary, a directory). */
  notExecutable: 126,
  /** The command was not found. */
  notFound: 127,
} as const;

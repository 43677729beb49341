/**
 * First arguments that select a subcommand; anything else (or `--` first) is a command to
 * supervise. Kept apart from the subcommands themselves, which are loaded only when asked for.
 */
export const SUBCOMMANDS = ['install', 'status', 'inject', 'webhook'] as const;

export function isSubcommand(argv: readonly string[]): boolean {
  return (SUBCOMMANDS as readonly string[]).includes(argv[0] ?? '');
}

import { collectRawValues, type RawOptions } from './core/options.ts';

export type CommandLine =
  | { readonly kind: 'run'; readonly raw: RawOptions }
  | { readonly kind: 'exit'; readonly code: number; readonly output: string }
  /** The command line itself is wrong; `raw` holds what could be read of it. */
  | { readonly kind: 'invalid'; readonly problem: string; readonly raw: RawOptions };

/**
 * Reads the command line and the KUBEXIT_* variables of `env` into raw options. Most containers
 * give kubexit no options at all (`kubexit my-app --its-flags`, settings in the environment, as
 * with kubexit): then everything is the command, and commander is not even loaded, which saves
 * every such container its start-up cost. A command line that starts with an option is read by
 * commander (cli-flags.ts).
 */
export async function parseCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
): Promise<CommandLine> {
  const first = argv[0];
  if (first === undefined || !first.startsWith('-') || first === '-')
    return { kind: 'run', raw: { values: collectRawValues({}, env), command: [...argv] } };
  if (first === '--')
    return { kind: 'run', raw: { values: collectRawValues({}, env), command: argv.slice(1) } };
  const { parseFlags } = await import('./cli-flags.ts');
  return parseFlags(argv, env, version);
}

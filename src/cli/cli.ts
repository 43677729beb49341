import { collectRawValues } from '../core/model/options.ts';
import type { CommandLine } from './command-line.ts';

/**
 * Reads the command line and the KUBEXIT_* variables of `env` into raw options. Most containers
 * give kubexit no options at all (`kubexit my-app --its-flags`, settings in the environment, as
 * with kubexit): then everything is the command, and commander is not even loaded, which saves
 * every such container its start-up cost. A command line that starts with an option is read by
 * commander (flags.ts).
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
  const { parseFlags } = await import('./flags.ts');
  return parseFlags(argv, env, version);
}

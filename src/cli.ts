import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from './core/errors.ts';
import { OPTION_SPECS, type OptionKey, type RawOptions, type RawValue } from './core/options.ts';

export type CommandLine =
  | { readonly kind: 'run'; readonly raw: RawOptions }
  | { readonly kind: 'exit'; readonly code: number; readonly output: string };

const EXIT_HELP = `
Subcommands: "kubexit install <dir>" copies kubexit into a directory (an init container's job);
"kubexit status [--graveyard dir] [--json]" shows every tombstone. To supervise a program
called install or status, put "--" first: kubexit -- install ...

Everything from the first argument that is not an option belongs to the command, so
"kubexit curl -v http://x" passes -v to curl. Use "--" before a command that starts with "-".
Each option can also be set by its environment variable; a flag wins over the variable.

Exit codes: the command's own code; 128+N when signal N killed it; 0 when death
dependencies stopped it (unless --ignore-code-on-death-deps=false); 1 birth timeout;
2 invalid configuration or unusable graveyard; 125 internal error; 126 command not
executable; 127 command not found.`;

/**
 * Reads flags and KUBEXIT_* variables into raw options. Validation happens in the core; this
 * only knows where each value came from, so errors can name the flag or the variable.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
): CommandLine {
  let output = '';
  const program = buildProgram(version, (text) => {
    output += text;
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'exit', code: 0, output };
    throw commanderProblem(error, env);
  }
  return { kind: 'run', raw: { values: collectValues(program), command: program.args } };
}

function buildProgram(version: string, write: (text: string) => void): Command {
  const program = new Command('kubexit')
    .usage('[options] [--] <command> [args...]')
    .description(
      'Runs a command as a container of a pod, coordinated through tombstones in a shared graveyard.',
    )
    .argument('[command...]', 'the command to supervise and its arguments')
    .passThroughOptions()
    .allowExcessArguments()
    .version(version, '-V, --version')
    .helpOption('-h, --help')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: () => {} })
    .addHelpText('after', EXIT_HELP);
  for (const spec of OPTION_SPECS) {
    const option = new Option(`--${spec.flag} <${spec.valueName}>`, spec.description).env(spec.env);
    program.addOption(spec.default ? option.default(spec.default) : option);
  }
  return program;
}

/** Values the user gave, by flag or variable; defaults are left to the core. */
function collectValues(program: Command): Partial<Record<OptionKey, RawValue>> {
  const values: Partial<Record<OptionKey, RawValue>> = {};
  const options = program.opts<Record<string, string>>();
  for (const spec of OPTION_SPECS) {
    const source = program.getOptionValueSource(camel(spec.flag));
    const value = options[camel(spec.flag)];
    if (value === undefined || source === 'default') continue;
    values[spec.key] = { value, source: source === 'env' ? spec.env : `--${spec.flag}` };
  }
  return values;
}

/** Turns commander's parse errors into our configuration error, naming the fix. */
function commanderProblem(error: CommanderError, env: NodeJS.ProcessEnv): ConfigError {
  const message = error.message.replace(/^error: /, '');
  const hint =
    error.code === 'commander.unknownOption'
      ? ' (kubexit options come before the command; run kubexit --help for the list, or put "--" before a command that starts with "-")'
      : '';
  return new ConfigError([`${message}${hint}`], {
    name: env.KUBEXIT_NAME?.trim(),
    graveyard: env.KUBEXIT_GRAVEYARD?.trim() || '/graveyard',
  });
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

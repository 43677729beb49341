import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  BOOLEAN_WORDS,
  collectRawValues,
  OPTION_SPECS,
  type OptionKey,
  type OptionSpec,
  type RawValue,
} from '../core/model/options.ts';
import type { CommandLine } from './command-line.ts';

const EXIT_HELP = `
Subcommands: "kubexit install <dir>" copies kubexit into a directory (an init container's job);
"kubexit status [--graveyard dir] [--json]" shows every tombstone; "kubexit inject [files]"
wires kubexit into Kubernetes manifests (kubexit inject --help). To supervise a program called
install, status or inject, put "--" first: kubexit -- install ...

Everything from the first argument that is not an option belongs to the command, so
"kubexit curl -v http://x" passes -v to curl. Use "--" before a command that starts with "-".
Each option can also be set by its environment variable; a flag wins over the variable.

Exit codes: the command's own code; 128+N when signal N killed it; 0 when death
dependencies stopped it (unless --no-ignore-code-on-death-deps); 1 birth timeout;
2 invalid configuration or unusable graveyard; 125 internal error; 126 command not
executable; 127 command not found.`;

/** A command line with options, read with commander (see cli.ts for why it is loaded here). */
export function parseFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
): CommandLine {
  let output = '';
  const program = buildProgram(version, (text) => {
    output += text;
  });
  const normalized = normalizeBooleanFlags(argv);
  if (!normalized.ok) {
    const raw = { values: salvageValues(normalized.rest, env, version), command: [] };
    return { kind: 'invalid', problem: normalized.problem, raw };
  }
  try {
    program.parse(normalized.argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'exit', code: 0, output };
    // The other options still name the container and its shutdown URLs, so the ending can write
    // a tombstone and stop the sidecars that can't be wrapped.
    const raw = { values: salvageValues(normalized.argv, env, version), command: [] };
    return { kind: 'invalid', problem: describeProblem(error), raw };
  }
  return { kind: 'run', raw: { values: collectValues(program, env), command: program.args } };
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
    const where = `${spec.env}${spec.default ? `, default ${spec.default}` : ''}`;
    if (isBoolean(spec)) {
      program.addOption(new Option(`--${spec.flag}`, `${spec.description} [${where}]`));
      program.addOption(new Option(`--no-${spec.flag}`, `the opposite of --${spec.flag}`));
      continue;
    }
    const option = new Option(
      `--${spec.flag} <${spec.valueName}>`,
      `${spec.description} [${where}]`,
    );
    program.addOption(option.argParser(onlyOnce(spec.flag)));
  }
  return program;
}

function isBoolean(spec: OptionSpec): boolean {
  return spec.valueName === 'bool';
}

type Normalized =
  | { readonly ok: true; readonly argv: string[] }
  | { readonly ok: false; readonly problem: string; readonly rest: string[] };

/**
 * Boolean flags work bare, as in every CLI (`--shutdown-on-success-only`), negated
 * (`--no-shutdown-on-success-only`), or with a value joined by `=` (true, false, 1 or 0), which
 * is turned into one of the first two here. A value after a space is never taken: the next word
 * may be the command. Only the options before the command are looked at, and each boolean flag
 * may be given once.
 */
function normalizeBooleanFlags(argv: readonly string[]): Normalized {
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) {
      out.push(...argv.slice(index));
      break;
    }
    const equals = arg.indexOf('=');
    const name = equals < 0 ? arg : arg.slice(0, equals);
    const spec = OPTION_SPECS.find(
      (candidate) => `--${candidate.flag}` === name || `--no-${candidate.flag}` === name,
    );
    if (spec === undefined || !isBoolean(spec)) {
      out.push(arg);
      // An option that takes a value given after a space: that word is the value, not the command.
      if (spec !== undefined && equals < 0 && index + 1 < argv.length) {
        index += 1;
        out.push(argv[index] as string);
      }
      continue;
    }
    const rest = [...out, ...argv.slice(index + 1)];
    let value = !name.startsWith('--no-');
    if (equals >= 0) {
      const word = BOOLEAN_WORDS.get(
        arg
          .slice(equals + 1)
          .trim()
          .toLowerCase(),
      );
      if (word === undefined || !value)
        return {
          ok: false,
          problem: `${arg} is not a boolean flag value: give --${spec.flag} alone, --no-${spec.flag}, or --${spec.flag}=${[...BOOLEAN_WORDS.keys()].join('|')}`,
          rest,
        };
      value = word;
    }
    const previous = seen.get(spec.flag);
    if (previous !== undefined)
      return {
        ok: false,
        problem: `--${spec.flag} is given twice (${previous}, then ${arg}): give it once`,
        rest,
      };
    seen.set(spec.flag, arg);
    out.push(value ? `--${spec.flag}` : `--no-${spec.flag}`);
  }
  return { ok: true, argv: out };
}

/**
 * What can still be read from a command line commander refused: commander stops at an unknown
 * option, so it is taken out and the rest read again (a few times at most); any other mistake
 * keeps what was read before it.
 */
function salvageValues(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
): Partial<Record<OptionKey, RawValue>> {
  let args = [...argv];
  for (let attempt = 0; attempt < 10; attempt++) {
    const program = buildProgram(version, () => {});
    try {
      program.parse(args, { from: 'user' });
    } catch (error) {
      const unknown = /unknown option '([^']+)'/.exec((error as Error).message)?.[1];
      const at = args.findIndex((arg) => arg === unknown || arg.startsWith(`${unknown}=`));
      if (error instanceof CommanderError && error.code === 'commander.unknownOption' && at >= 0) {
        args = args.filter((_, index) => index !== at);
        continue;
      }
    }
    return collectValues(program, env);
  }
  return collectValues(
    buildProgram(version, () => {}),
    env,
  );
}

/** Single-valued options: a second value is a mistake, not a silent override. */
function onlyOnce(flag: string): (value: string, previous: unknown) => string {
  let first: string | undefined;
  return (value) => {
    if (first !== undefined)
      throw new InvalidArgumentError(
        `--${flag} is given twice (${JSON.stringify(first)}, then ${JSON.stringify(value)}): give it once`,
      );
    first = value;
    return value;
  };
}

/** Values the user gave: the flag, else a non-empty environment variable. */
function collectValues(
  program: Command,
  env: NodeJS.ProcessEnv,
): Partial<Record<OptionKey, RawValue>> {
  // Boolean flags arrive as true or false; the configuration reads every value as text.
  const flags = Object.fromEntries(
    Object.entries(program.opts<Record<string, string | boolean | undefined>>()).map(
      ([key, value]) => [key, typeof value === 'boolean' ? String(value) : value],
    ),
  );
  return collectRawValues(flags, env);
}

/** Commander's message, with the fix. */
function describeProblem(error: CommanderError): string {
  const message = error.message.replace(/^error: /, '');
  if (error.code === 'commander.invalidArgument') return message.replace(/^.*is invalid\. /, '');
  const hint =
    error.code === 'commander.unknownOption'
      ? ' (kubexit options come before the command; run kubexit --help for the list, or put "--" before a command that starts with "-")'
      : '';
  return `${message}${hint}`;
}

import { type CheckSpec, isCheckEntry, parseCheck, parseHeaders } from './checks.ts';
import { parseDuration } from './duration.ts';
import { SupervisorError } from './errors.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { nameProblem } from './names.ts';
import {
  BOOLEAN_WORDS,
  DEATH_DEPS_POLICIES,
  type DeathDepsPolicy,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  type OptionKey,
  oneOf,
  type RawOptions,
  type RawValue,
  RESTART_POLICIES,
  type RestartPolicy,
  specOf,
  WATCH_MODES,
  type WatchMode,
} from './options.ts';
import { parseSignal, type SignalName } from './signals.ts';

export type { DeathDepsPolicy, LogFormat, LogLevel, RestartPolicy, WatchMode } from './options.ts';

/** A validated configuration: everything the supervisor needs, nothing left to parse. */
export interface Config {
  readonly name: string;
  readonly graveyard: string;
  /** Containers that must be ready before the command starts. */
  readonly birthDeps: readonly string[];
  /** Endpoint checks that must pass before the command starts. */
  readonly birthChecks: readonly CheckSpec[];
  readonly deathDeps: readonly string[];
  readonly birthTimeoutMs: number;
  readonly gracePeriodMs: number;
  readonly ignoreCodeOnDeathDeps: boolean;
  readonly deathDepsPolicy: DeathDepsPolicy;
  /**
   * Never: any death of a death dependency stops the command. OnFailure, Always: the kubelet
   * restarts a container that failed, so only a success does (and only a success calls the
   * shutdown URLs): the restarted container finds its sidecars still there.
   */
  readonly restartPolicy: RestartPolicy;
  /** Whether the restart policy was given; if not, API mode takes the pod's own. */
  readonly restartPolicyGiven: boolean;
  readonly stopSignal: SignalName;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly watch: WatchMode;
  readonly pollIntervalMs: number;
  /** This container's own readiness check; undefined: born means ready. */
  readonly readyCheck: CheckSpec | undefined;
  readonly readyIntervalMs: number;
  readonly readyTimeoutMs: number;
  readonly shutdownUrls: readonly string[];
  readonly shutdownOnSuccessOnly: boolean;
  readonly shutdownTimeoutMs: number;
  /** The file the reason of the ending goes to (the kubelet's termination message). */
  readonly terminationLog: string;
  /** With namespace: the pod whose status tells the readiness of birth dependencies. */
  readonly podName: string | undefined;
  readonly namespace: string | undefined;
  readonly command: string;
  readonly args: readonly string[];
}

/** Every container this one depends on, birth and death, each once: what it watches. */
export function dependencyNames(config: Pick<Config, 'birthDeps' | 'deathDeps'>): string[] {
  return [...new Set([...config.birthDeps, ...config.deathDeps])];
}

/** What an invalid configuration still tells, each when valid: enough to end properly. */
export type KnownSettings = Partial<
  Pick<
    Config,
    | 'name'
    | 'graveyard'
    | 'shutdownUrls'
    | 'shutdownOnSuccessOnly'
    | 'shutdownTimeoutMs'
    | 'terminationLog'
    | 'restartPolicy'
    | 'logLevel'
    | 'logFormat'
  >
>;

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

function formatProblems(problems: readonly string[]): string {
  if (problems.length === 1) return `invalid configuration: ${problems[0]}`;
  return `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}

/** Collects problems instead of stopping at the first, so one run shows every mistake. */
class Problems {
  readonly list: string[] = [];

  add(raw: RawValue, message: string): void {
    this.list.push(`${raw.source}=${JSON.stringify(raw.value)} ${message}`);
  }

  /** Whether `parse` added no problem: its value can be trusted even if others are wrong. */
  clean<T>(parse: () => T): T | undefined {
    const before = this.list.length;
    const value = parse();
    return this.list.length === before ? value : undefined;
  }
}

/**
 * Validates raw options into a Config; throws ConfigError (exit 2) listing every problem, carrying
 * the settings the ending needs (name, graveyard, shutdown calls, logging) where those are valid.
 * `commandLineProblem` is a mistake found while reading the command line: the command itself is
 * then unknown and not checked.
 */
export function parseConfig(raw: RawOptions, commandLineProblem?: string): Config {
  const problems = new Problems();
  if (commandLineProblem !== undefined) problems.list.push(commandLineProblem);
  const get = (key: OptionKey): RawValue => givenOrDefault(raw, key);
  const name = parseName(raw, problems);
  const graveyard = parseAbsolutePath(get('graveyard'), problems, '/graveyard');
  const { names: birthDeps, checks: birthChecks } = parseBirthDeps(get('birthDeps'), problems);
  const deathDeps = parseList(get('deathDeps'), problems);
  checkSelfDependency(name, birthDeps, get('birthDeps'), problems);
  checkSelfDependency(name, deathDeps, get('deathDeps'), problems);
  const config = {
    name: name ?? '',
    graveyard: graveyard ?? '',
    birthDeps,
    birthChecks,
    deathDeps,
    birthTimeoutMs: parseKubexitDuration(get('birthTimeout'), problems),
    gracePeriodMs: parseKubexitDuration(get('gracePeriod'), problems),
    ignoreCodeOnDeathDeps: parseBool(get('ignoreCodeOnDeathDeps'), problems),
    deathDepsPolicy: parseChoice(get('deathDepsPolicy'), DEATH_DEPS_POLICIES, problems),
    restartPolicy: problems.clean(() =>
      parseChoice(get('restartPolicy'), RESTART_POLICIES, problems),
    ),
    restartPolicyGiven: raw.values.restartPolicy !== undefined,
    stopSignal: parseStopSignal(get('stopSignal'), problems),
    logLevel: problems.clean(() => parseChoice(get('logLevel'), LOG_LEVELS, problems)),
    logFormat: problems.clean(() => parseChoice(get('logFormat'), LOG_FORMATS, problems)),
    watch: parseChoice(get('watch'), WATCH_MODES, problems),
    pollIntervalMs: parseDurationOption(get('pollInterval'), problems, { allowZero: false }),
    readyCheck: withHeaders(
      parseOptionalCheck(get('readyCheck'), problems),
      get('readyCheckHeaders'),
      problems,
    ),
    readyIntervalMs: parseDurationOption(get('readyInterval'), problems, { allowZero: false }),
    readyTimeoutMs: parseDurationOption(get('readyTimeout'), problems, { allowZero: false }),
    shutdownUrls: problems.clean(() => parseShutdownUrls(get('shutdownUrls'), problems)),
    shutdownOnSuccessOnly: problems.clean(() => parseBool(get('shutdownOnSuccessOnly'), problems)),
    shutdownTimeoutMs: problems.clean(() =>
      parseDurationOption(get('shutdownTimeout'), problems, { allowZero: false }),
    ),
    terminationLog: problems.clean(() =>
      parseAbsolutePath(get('terminationLog'), problems, '/dev/termination-log'),
    ),
    podName: optionalText(get('podName')),
    namespace: optionalText(get('namespace')),
    ...parseCommand(raw.command, commandLineProblem === undefined ? problems : new Problems()),
  };
  if (problems.list.length > 0)
    throw new ConfigError(problems.list, { ...config, name, graveyard });
  return config as Config;
}

/** The user's value, or the default attributed to the option's environment variable. */
function givenOrDefault(raw: RawOptions, key: OptionKey): RawValue {
  const given = raw.values[key];
  if (given !== undefined && given.value !== '') return given;
  const spec = specOf(key);
  return { value: spec.default ?? '', source: spec.env };
}

function parseName(raw: RawOptions, problems: Problems): string | undefined {
  const given = raw.values.name;
  if (given === undefined || given.value.trim() === '') {
    problems.list.push("KUBEXIT_NAME (or --name) is required: set it to this container's name");
    return undefined;
  }
  const name = given.value.trim();
  const problem = nameProblem(name);
  if (problem === undefined) return name;
  problems.add(given, `is not a valid container name: it ${problem}`);
  return undefined;
}

/** A directory or file: absolute, trailing slashes dropped. */
function parseAbsolutePath(raw: RawValue, problems: Problems, example: string): string | undefined {
  const path = raw.value.trim();
  if (path.startsWith('/')) return path.length > 1 ? path.replace(/\/+$/, '') : path;
  problems.add(raw, `must be an absolute path, such as ${example}`);
  return undefined;
}

/** Comma-separated entries, trimmed; empty entries are reported and dropped. */
function splitList(raw: RawValue, problems: Problems): string[] {
  if (raw.value.trim() === '') return [];
  const entries = raw.value.split(',').map((entry) => entry.trim());
  for (const [index, entry] of entries.entries()) {
    if (entry === '')
      problems.add(raw, `has an empty entry at position ${index + 1}: remove the extra comma`);
  }
  return entries.filter((entry) => entry !== '');
}

/** Birth dependencies: container names and endpoint checks, in one list. */
function parseBirthDeps(
  raw: RawValue,
  problems: Problems,
): { names: string[]; checks: CheckSpec[] } {
  const entries = splitList(raw, problems);
  const checks: CheckSpec[] = [];
  for (const entry of entries.filter(isCheckEntry)) {
    const parsed = parseCheck(entry);
    if (parsed.ok) checks.push(parsed.check);
    else problems.add(raw, `lists "${entry}", which ${parsed.problem}`);
  }
  const names = validNames(
    entries.filter((entry) => !isCheckEntry(entry)),
    raw,
    problems,
  );
  return { names, checks };
}

/** Comma-separated container names, trimmed; empty entries and unsafe names are errors. */
function parseList(raw: RawValue, problems: Problems): string[] {
  return validNames(splitList(raw, problems), raw, problems);
}

function validNames(entries: readonly string[], raw: RawValue, problems: Problems): string[] {
  const names: string[] = [];
  for (const entry of entries) {
    const problem = nameProblem(entry);
    if (problem !== undefined) problems.add(raw, `lists "${entry}", which ${problem}`);
    else if (!names.includes(entry)) names.push(entry);
  }
  return names;
}

function checkSelfDependency(
  name: string | undefined,
  deps: readonly string[],
  raw: RawValue,
  problems: Problems,
): void {
  if (name !== undefined && deps.includes(name)) {
    problems.add(
      raw,
      `lists this container itself ("${name}"): a container can't depend on itself`,
    );
  }
}

const DURATION_FORMS = 'a duration such as 30s, 1m30s or 300ms (Go syntax), or plain seconds';

/**
 * kubexit's own durations (birth timeout, grace period) keep kubexit's meaning for every value Go
 * accepts: zero and negative values both mean "no time at all" (kubexit's timers fire at once).
 */
function parseKubexitDuration(raw: RawValue, problems: Problems): number {
  const ms = parseDuration(raw.value);
  if (ms === undefined) problems.add(raw, `is not ${DURATION_FORMS}`);
  return Math.max(0, ms ?? 0);
}

/** kubexit's additions (intervals, timeouts of checks and calls) need a positive duration. */
function parseDurationOption(
  raw: RawValue,
  problems: Problems,
  opts: { allowZero: boolean },
): number {
  const ms = parseDuration(raw.value);
  if (ms === undefined) problems.add(raw, `is not ${DURATION_FORMS}`);
  else if (ms < 0 || (ms === 0 && !opts.allowZero))
    problems.add(raw, `must be greater than zero: give ${DURATION_FORMS}`);
  return ms ?? 0;
}

function parseOptionalCheck(raw: RawValue, problems: Problems): CheckSpec | undefined {
  if (raw.value.trim() === '') return undefined;
  const parsed = parseCheck(raw.value);
  if (parsed.ok) return parsed.check;
  problems.add(raw, parsed.problem);
  return undefined;
}

/** The ready check with its request headers; headers are only for an http(s) check. */
function withHeaders(
  check: CheckSpec | undefined,
  raw: RawValue,
  problems: Problems,
): CheckSpec | undefined {
  if (raw.value.trim() === '') return check;
  const parsed = parseHeaders(raw.value);
  if (!parsed.ok) {
    problems.add(raw, parsed.problem);
    return check;
  }
  if (check === undefined || check.kind !== 'http') {
    problems.add(
      raw,
      'needs an http:// or https:// ready check (KUBEXIT_READY_CHECK) to send them with',
    );
    return check;
  }
  return { ...check, headers: parsed.headers };
}

/** Shutdown endpoints of sidecars kubexit can't wrap, by the name users know them by. */
export const SHUTDOWN_PRESETS = {
  istio: 'http://127.0.0.1:15020/quitquitquit',
  linkerd: 'http://localhost:4191/shutdown',
  cloudsql: 'http://localhost:9091/quitquitquit',
  dapr: 'http://localhost:3500/v1.0/shutdown',
} as const;

/** A preset's name, as KUBEXIT_SHUTDOWN_URLS takes it. */
export type ShutdownPreset = keyof typeof SHUTDOWN_PRESETS;

function presetUrl(entry: string): string | undefined {
  const name = entry.toLowerCase();
  return Object.hasOwn(SHUTDOWN_PRESETS, name)
    ? SHUTDOWN_PRESETS[name as ShutdownPreset]
    : undefined;
}

function parseShutdownUrls(raw: RawValue, problems: Problems): string[] {
  const urls: string[] = [];
  for (const entry of splitList(raw, problems)) {
    const url = presetUrl(entry) ?? entry;
    const parsed = parseCheck(url);
    if (parsed.ok && parsed.check.kind === 'http') urls.push(parsed.check.url);
    else
      problems.add(
        raw,
        `lists "${entry}", which is neither an http(s):// URL nor a preset (${Object.keys(SHUTDOWN_PRESETS).join(', ')})`,
      );
  }
  return urls;
}

function optionalText(raw: RawValue): string | undefined {
  const text = raw.value.trim();
  return text === '' ? undefined : text;
}

function parseBool(raw: RawValue, problems: Problems): boolean {
  const word = raw.value.trim().toLowerCase();
  const value = BOOLEAN_WORDS.get(word);
  if (value !== undefined) return value;
  problems.add(raw, `is not a boolean: use ${oneOf([...BOOLEAN_WORDS.keys()])}`);
  return false;
}

function parseChoice<T extends string>(
  raw: RawValue,
  choices: readonly T[],
  problems: Problems,
): T {
  const word = raw.value.trim().toLowerCase();
  const choice = choices.find((c) => c.toLowerCase() === word);
  if (choice === undefined) problems.add(raw, `is not one of: ${choices.join(', ')}`);
  return choice ?? (choices[0] as T);
}

function parseStopSignal(raw: RawValue, problems: Problems): SignalName {
  const signal = parseSignal(raw.value);
  if (signal === undefined)
    problems.add(raw, 'is not a Linux signal: use a name like SIGTERM, TERM or a number like 15');
  // SIGSTOP can't be caught and ends nothing: the command would freeze until the grace period.
  if (signal === 'SIGSTOP')
    problems.add(raw, 'freezes the command instead of stopping it: use SIGTERM, SIGINT or SIGQUIT');
  return signal ?? 'SIGTERM';
}

function parseCommand(
  command: readonly string[],
  problems: Problems,
): { command: string; args: string[] } {
  const [first, ...args] = command;
  if (first === undefined || first === '') {
    problems.list.push('no command given: usage is kubexit [options] [--] <command> [args...]');
    return { command: '', args };
  }
  return { command: first, args };
}

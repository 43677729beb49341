import { CHECK_SCHEMES } from './checks.ts';

/**
 * Every option kubexit accepts: its flag, its environment variable, its default and its allowed
 * words. The CLI, the help text, the configuration and inject read this one table; a test checks
 * the README's table against it.
 */
export interface OptionSpec {
  /** Key in the raw options and the config. */
  readonly key: OptionKey;
  /** Long flag without dashes. */
  readonly flag: string;
  /** Environment variable, kubexit's name where kubexit has one. */
  readonly env: string;
  /** Placeholder shown in help. */
  readonly valueName: string;
  /** Default as text, parsed like a user value; undefined means unset. */
  readonly default?: string;
  /** The only values allowed, for an option that is one of a few words. */
  readonly choices?: readonly string[];
  readonly description: string;
}

/** The words of each choice option: the types below and the validation derive from them. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;
export const DEATH_DEPS_POLICIES = ['any', 'all'] as const;
/** The pod's restartPolicy, as Kubernetes spells it. */
export const RESTART_POLICIES = ['Never', 'OnFailure', 'Always'] as const;
export const WATCH_MODES = ['auto', 'poll'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];
export type DeathDepsPolicy = (typeof DEATH_DEPS_POLICIES)[number];
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
export type WatchMode = (typeof WATCH_MODES)[number];

/**
 * Whether the kubelet restarts a failed container of a pod with this policy (OnFailure, Always)
 * or not (Never, or nothing known): then a failure is not an end, and a death dependency's
 * failure must not stop the command, nor a failed command call the shutdown URLs.
 */
export function kubeletRestartsFailures(
  policy: string | undefined,
): policy is Exclude<RestartPolicy, 'Never'> {
  return policy === 'OnFailure' || policy === 'Always';
}

/** A boolean option's words (any case) and what they mean; anything else is refused. */
export const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);

/** The default graveyard, where every container of a pod looks unless told otherwise. */
export const DEFAULT_GRAVEYARD = '/graveyard';

/**
 * The kubelet's termination message file (a container's terminationMessagePath by default): what
 * `kubectl describe pod` shows as the container's Message.
 */
export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

/** "a, b or c", for descriptions and messages. */
export function oneOf(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

export type OptionKey =
  | 'name'
  | 'graveyard'
  | 'birthDeps'
  | 'deathDeps'
  | 'birthTimeout'
  | 'gracePeriod'
  | 'ignoreCodeOnDeathDeps'
  | 'deathDepsPolicy'
  | 'restartPolicy'
  | 'stopSignal'
  | 'logLevel'
  | 'logFormat'
  | 'watch'
  | 'pollInterval'
  | 'readyCheck'
  | 'readyCheckHeaders'
  | 'readyInterval'
  | 'readyTimeout'
  | 'shutdownUrls'
  | 'shutdownOnSuccessOnly'
  | 'shutdownTimeout'
  | 'terminationLog'
  | 'podName'
  | 'namespace';

export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    key: 'name',
    flag: 'name',
    env: 'KUBEXIT_NAME',
    valueName: 'name',
    description: 'name of this container; its tombstone is <graveyard>/<name> (required)',
  },
  {
    key: 'graveyard',
    flag: 'graveyard',
    env: 'KUBEXIT_GRAVEYARD',
    valueName: 'dir',
    default: DEFAULT_GRAVEYARD,
    description: 'directory shared by the pod (an emptyDir) holding the tombstones',
  },
  {
    key: 'birthDeps',
    flag: 'birth-deps',
    env: 'KUBEXIT_BIRTH_DEPS',
    valueName: 'names',
    default: '',
    description: `comma-separated containers that must be ready before the command starts, and endpoint checks (${CHECK_SCHEMES.join(', ')}) that must pass`,
  },
  {
    key: 'deathDeps',
    flag: 'death-deps',
    env: 'KUBEXIT_DEATH_DEPS',
    valueName: 'names',
    default: '',
    description: 'comma-separated containers whose death stops the command',
  },
  {
    key: 'birthTimeout',
    flag: 'birth-timeout',
    env: 'KUBEXIT_BIRTH_TIMEOUT',
    valueName: 'duration',
    default: '30s',
    description: 'how long to wait for birth dependencies before giving up (exit 1)',
  },
  {
    key: 'gracePeriod',
    flag: 'grace-period',
    env: 'KUBEXIT_GRACE_PERIOD',
    valueName: 'duration',
    default: '30s',
    description: 'time between the stop signal and SIGKILL when a death dependency dies',
  },
  {
    key: 'ignoreCodeOnDeathDeps',
    flag: 'ignore-code-on-death-deps',
    env: 'KUBEXIT_IGNORE_CODE_ON_DEATH_DEPS',
    valueName: 'bool',
    default: 'true',
    description: "exit 0 when stopped by death dependencies; false keeps the child's own code",
  },
  {
    key: 'deathDepsPolicy',
    flag: 'death-deps-policy',
    env: 'KUBEXIT_DEATH_DEPS_POLICY',
    valueName: DEATH_DEPS_POLICIES.join('|'),
    default: 'any',
    choices: DEATH_DEPS_POLICIES,
    description: 'stop when any death dependency has died, or only when all of them have',
  },
  {
    key: 'restartPolicy',
    flag: 'restart-policy',
    env: 'KUBEXIT_RESTART_POLICY',
    valueName: 'policy',
    default: 'Never',
    choices: RESTART_POLICIES,
    description:
      "the pod's restartPolicy: with OnFailure or Always the kubelet restarts a failed container, so a death dependency stops the command only when it succeeded, and shutdown URLs are called only on success",
  },
  {
    key: 'stopSignal',
    flag: 'stop-signal',
    env: 'KUBEXIT_STOP_SIGNAL',
    valueName: 'signal',
    default: 'SIGTERM',
    description: "signal sent to the child's process group when a death dependency dies",
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'KUBEXIT_LOG_LEVEL',
    valueName: 'level',
    default: 'info',
    choices: LOG_LEVELS,
    description: oneOf(LOG_LEVELS),
  },
  {
    key: 'logFormat',
    flag: 'log-format',
    env: 'KUBEXIT_LOG_FORMAT',
    valueName: 'format',
    default: 'text',
    choices: LOG_FORMATS,
    description: `${oneOf(LOG_FORMATS)} (one object per line)`,
  },
  {
    key: 'watch',
    flag: 'watch',
    env: 'KUBEXIT_WATCH',
    valueName: 'mode',
    default: 'auto',
    choices: WATCH_MODES,
    description: 'auto (inotify, polling if unavailable) or poll',
  },
  {
    key: 'pollInterval',
    flag: 'poll-interval',
    env: 'KUBEXIT_POLL_INTERVAL',
    valueName: 'duration',
    default: '100ms',
    description: 'how often the graveyard is polled in polling mode',
  },
  {
    key: 'readyCheck',
    flag: 'ready-check',
    env: 'KUBEXIT_READY_CHECK',
    valueName: 'check',
    description: `this container's readiness check (${CHECK_SCHEMES.join(', ')}); without one, born means ready`,
  },
  {
    key: 'readyCheckHeaders',
    flag: 'ready-check-headers',
    env: 'KUBEXIT_READY_CHECK_HEADERS',
    valueName: 'headers',
    description:
      'request headers of an http(s) ready check, one "Name: value" per line (a probe\'s httpHeaders)',
  },
  {
    key: 'readyInterval',
    flag: 'ready-interval',
    env: 'KUBEXIT_READY_INTERVAL',
    valueName: 'duration',
    default: '500ms',
    description: 'time between attempts of readiness and endpoint checks',
  },
  {
    key: 'readyTimeout',
    flag: 'ready-timeout',
    env: 'KUBEXIT_READY_TIMEOUT',
    valueName: 'duration',
    default: '2s',
    description: 'how long one attempt of a readiness or endpoint check may take',
  },
  {
    key: 'shutdownUrls',
    flag: 'shutdown-urls',
    env: 'KUBEXIT_SHUTDOWN_URLS',
    valueName: 'urls',
    default: '',
    description:
      'comma-separated URLs (or presets istio, linkerd, cloudsql, dapr) to POST to after the command ends',
  },
  {
    key: 'shutdownOnSuccessOnly',
    flag: 'shutdown-on-success-only',
    env: 'KUBEXIT_SHUTDOWN_ON_SUCCESS_ONLY',
    valueName: 'bool',
    default: 'false',
    description: 'call the shutdown URLs only when kubexit exits 0 (for restartPolicy OnFailure)',
  },
  {
    key: 'shutdownTimeout',
    flag: 'shutdown-timeout',
    env: 'KUBEXIT_SHUTDOWN_TIMEOUT',
    valueName: 'duration',
    default: '10s',
    description: 'the most time all shutdown calls together may delay the exit',
  },
  {
    key: 'terminationLog',
    flag: 'termination-log',
    env: 'KUBEXIT_TERMINATION_LOG',
    valueName: 'file',
    default: DEFAULT_TERMINATION_LOG,
    description:
      "where one line on why kubexit ended is written, for kubectl describe pod (the container's terminationMessagePath); only into a file that exists and is empty",
  },
  {
    key: 'podName',
    flag: 'pod-name',
    env: 'KUBEXIT_POD_NAME',
    valueName: 'name',
    description:
      'this pod (downward API); with --namespace, birth dependencies are also ready when the Kubernetes API says so',
  },
  {
    key: 'namespace',
    flag: 'namespace',
    env: 'KUBEXIT_NAMESPACE',
    valueName: 'namespace',
    description: "this pod's namespace (downward API)",
  },
];

/** An option's spec; every key has one. */
export function specOf(key: OptionKey): OptionSpec {
  const spec = OPTION_SPECS.find((option) => option.key === key);
  if (spec === undefined) throw new Error(`no option ${key}`);
  return spec;
}

/** A value as given by the user, with where it came from ("--grace-period", "KUBEXIT_NAME"). */
export interface RawValue {
  readonly value: string;
  readonly source: string;
}

/** Options as collected from flags and the environment, before validation. */
export interface RawOptions {
  readonly values: Partial<Record<OptionKey, RawValue>>;
  /** The command and its arguments, untouched. */
  readonly command: readonly string[];
}

/**
 * The one place option values are collected: a flag (`flags` keyed by camel-cased flag name)
 * wins over its variable, read from `env` (the injected environment, never the global process);
 * an empty variable counts as unset. Defaults and validation belong to config.ts.
 */
export function collectRawValues(
  flags: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): Partial<Record<OptionKey, RawValue>> {
  const values: Partial<Record<OptionKey, RawValue>> = {};
  for (const spec of OPTION_SPECS) {
    const flag = flags[spec.flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())];
    const variable = env[spec.env];
    if (flag !== undefined) values[spec.key] = { value: flag, source: `--${spec.flag}` };
    else if (variable !== undefined && variable !== '')
      values[spec.key] = { value: variable, source: spec.env };
  }
  return values;
}

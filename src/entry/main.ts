import packageJson from '../../package.json' with { type: 'json' };
import { closeFrontChannel } from '../adapters/front-channel.ts';
import { FsGraveyard } from '../adapters/fs-graveyard.ts';
import { GraveyardWatcher } from '../adapters/graveyard-watcher.ts';
import { scheduleCompaction } from '../adapters/heap-compaction.ts';
import { ProcessLauncher } from '../adapters/process-launcher.ts';
import { ProcessSignals } from '../adapters/process-signals.ts';
import { SocketLiveness } from '../adapters/socket-liveness.ts';
import { stderrSink } from '../adapters/stderr-sink.ts';
import { StreamLogger } from '../adapters/stream-logger.ts';
import { SystemClock } from '../adapters/system-clock.ts';
import { HttpShutdownPoster, SystemProber } from '../adapters/system-prober.ts';
import { FileTerminationLog } from '../adapters/termination-log.ts';
import { V8Heap } from '../adapters/v8-heap.ts';
import { parseCommandLine } from '../cli/cli.ts';
import { isSubcommand } from '../commands/subcommand-names.ts';
import { endBeforeLife } from '../core/life/early-ending.ts';
import { failureOutcome, type Outcome } from '../core/life/outcome.ts';
import { Supervisor } from '../core/life/supervisor.ts';
import {
  type Config,
  ConfigError,
  dependencyNames,
  type KnownSettings,
  parseConfig,
} from '../core/model/config.ts';
import { describeError, isSupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';
import { containerNameProblem, isSafeName } from '../core/model/names.ts';
import { DEFAULT_TERMINATION_LOG } from '../core/model/options.ts';
import { redactSecrets } from '../core/model/redact.ts';
import { unknownVariables } from '../core/model/unknown-variables.ts';
import type { Logger, PodReadiness } from '../core/ports.ts';

/**
 * The composition root: parse, wire the real adapters, supervise, and return the exit code. Every
 * ending — a configuration error, an error starting up, an internal error, the child's exit —
 * goes through endLife, so the tombstone is written and the shutdown URLs are called whenever
 * the settings for them are known. Only the caller of this function exits.
 */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  signals: ProcessSignals = new ProcessSignals(),
): Promise<number> {
  // Set by the native front when it was run as `cp`; the command must not inherit it.
  const calledAs = env.KUBEXIT_CALLED_AS;
  delete env.KUBEXIT_CALLED_AS;
  // The subcommands (and commander, which reads their options) are loaded only when asked for.
  // They ask the front for nothing: its channel is closed at once.
  if (calledAs === 'cp' || isSubcommand(argv)) closeFrontChannel();
  if (calledAs === 'cp')
    return report(async () =>
      (await import('../commands/subcommands.ts')).copyAsCp(argv, process.execPath, printLine),
    );
  if (isSubcommand(argv))
    return report(async () =>
      (await import('../commands/subcommands.ts')).runSubcommand(argv, env),
    );
  let config: Config;
  try {
    // Run with nothing at all: the usage, before the errors that say what is missing.
    if (argv.length === 0) await printUsage(env);
    const line = await parseCommandLine(argv, env, packageJson.version);
    if (line.kind === 'exit') {
      process.stdout.write(line.output);
      return line.code;
    }
    config = line.kind === 'invalid' ? parseConfig(line.raw, line.problem) : parseConfig(line.raw);
  } catch (error) {
    const known = error instanceof ConfigError ? error.known : {};
    return endEarly(failureOutcome(error), known);
  }
  return supervise(config, env, signals);
}

async function supervise(
  config: Config,
  env: NodeJS.ProcessEnv,
  signals: ProcessSignals,
): Promise<number> {
  const clock = new SystemClock();
  const logger = loggerFor(config, clock);
  warnUnknownVariables(env, logger);
  const nameWarning = containerNameProblem(config.name);
  if (nameWarning !== undefined) logger.warn(nameWarning);
  const graveyard = new FsGraveyard(config.graveyard, { warn: (message) => logger.warn(message) });
  const ports = {
    graveyard,
    watcher: new GraveyardWatcher(config.graveyard, {
      mode: config.watch,
      pollIntervalMs: config.pollIntervalMs,
      names: dependencyNames(config),
      logger,
    }),
    launcher: new ProcessLauncher(),
    signals,
    clock,
    logger,
    prober: new SystemProber(),
    poster: new HttpShutdownPoster(),
    liveness: new SocketLiveness(config.graveyard),
    terminationLog: new FileTerminationLog(config.terminationLog, logger),
  };
  keepSupervisingOnStrayErrors(logger);
  // Heap compaction from the life's start (the graveyard prepared) until the child has exited, so
  // that none lands in a mass ending (why: docs/design.md, "The heap").
  let stopCompaction = () => {};
  const lifeBegun = () => {
    stopCompaction = scheduleCompaction(new V8Heap(), clock, logger);
  };
  const childExited = () => stopCompaction();
  const outcome = await new Supervisor(config, {
    ...ports,
    connectPod: () => apiMode(config, env, logger),
    lifeBegun,
    childExited,
  }).run();
  stopCompaction();
  return outcome.exitCode;
}

async function printUsage(env: NodeJS.ProcessEnv): Promise<void> {
  const help = await parseCommandLine(['--help'], env, packageJson.version);
  if (help.kind === 'exit') process.stderr.write(help.output);
}

/** A misspelt KUBEXIT_* variable would be ignored without a word: each one is named. */
function warnUnknownVariables(env: NodeJS.ProcessEnv, logger: Logger): void {
  for (const { name, nearest } of unknownVariables(env)) {
    const hint = nearest === undefined ? '' : `: did you mean ${nearest}?`;
    logger.warn(`unknown variable ${name} is ignored${hint}`);
  }
}

/**
 * Ends a container whose configuration could not be read: the core decides what may be written
 * (endBeforeLife); here only the adapters for the settings that are valid are made.
 */
async function endEarly(outcome: Outcome, known: KnownSettings): Promise<number> {
  const clock = new SystemClock();
  const name = known.name !== undefined && isSafeName(known.name) ? known.name : undefined;
  const logger = new StreamLogger({
    name,
    level: known.logLevel ?? 'info',
    format: known.logFormat ?? 'text',
    now: () => clock.now(),
  });
  const dir = name !== undefined && known.graveyard?.startsWith('/') ? known.graveyard : undefined;
  const located =
    dir === undefined ? {} : { graveyard: new FsGraveyard(dir), liveness: new SocketLiveness(dir) };
  // An invalid --termination-log still leaves the kubelet's own file to say why.
  const terminationLog = new FileTerminationLog(
    known.terminationLog ?? DEFAULT_TERMINATION_LOG,
    logger,
  );
  const ports = { clock, logger, poster: new HttpShutdownPoster(), terminationLog, ...located };
  return endBeforeLife(outcome, { ...known, name }, ports);
}

function loggerFor(config: Config, clock: SystemClock): StreamLogger {
  return new StreamLogger({
    name: config.name,
    level: config.logLevel,
    format: config.logFormat,
    now: () => clock.now(),
  });
}

function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Subcommands end with their own code; their errors are printed without a stack. */
async function report(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    const code = isSupervisorError(error) ? error.exitCode : EXIT_CODES.internal;
    const kind = isSupervisorError(error) ? 'error' : 'internal error (please report it)';
    stderrSink.write(redactSecrets(`kubexit: ${kind}: ${describeError(error)}\n`));
    return code;
  }
}

/**
 * Once the supervisor runs, an error thrown from some library callback must not crash kubexit:
 * that would leave no tombstone, and a sidecar waiting for this container's death would keep the
 * Job running forever. Log it and keep supervising; the child's exit still ends kubexit normally.
 */
function keepSupervisingOnStrayErrors(logger: Logger): void {
  const log = (error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.error(`unexpected error (kubexit keeps supervising; please report it): ${detail}`);
  };
  process.on('uncaughtException', log);
  process.on('unhandledRejection', log);
}

/**
 * kubexit's Kubernetes API mode: with the pod's name and namespace (downward API) and credentials,
 * a birth dependency is also ready when the pod status says so. The client library is loaded only
 * here, so containers that don't use it don't pay for it at startup. Unusable credentials are a
 * configuration error (exit 2), reported without their content: a kubeconfig holds secrets.
 */
async function apiMode(
  config: Config,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<PodReadiness | undefined> {
  const { podName, namespace, birthDeps } = config;
  if (podName === undefined && namespace === undefined) return undefined;
  if (podName === undefined || namespace === undefined) {
    logger.warn(
      'Kubernetes API mode needs both KUBEXIT_POD_NAME and KUBEXIT_NAMESPACE; using tombstones only',
    );
    return undefined;
  }
  if (birthDeps.length === 0) return undefined;
  const { KubernetesPodReadiness, loadKubeConfig } = await import(
    '../adapters/kubernetes-pod-readiness.ts'
  );
  const kubeConfig = loadKubeConfig(env);
  if (kubeConfig === undefined) {
    logger.warn(
      'no Kubernetes credentials (not in a cluster, no KUBECONFIG): birth dependencies are satisfied by tombstones only',
    );
    return undefined;
  }
  logger.debug(`Kubernetes API mode: following pod ${namespace}/${podName}`);
  return new KubernetesPodReadiness({ podName, namespace, kubeConfig, logger });
}

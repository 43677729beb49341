import packageJson from '../package.json' with { type: 'json' };
import { ChokidarWatcher } from './adapters/chokidar-watcher.ts';
import { ExecaLauncher } from './adapters/execa-launcher.ts';
import { FsGraveyard } from './adapters/fs-graveyard.ts';
import { FetchPoster, SystemProber } from './adapters/prober.ts';
import { ProcessSignals } from './adapters/process-signals.ts';
import { StreamLogger } from './adapters/stream-logger.ts';
import { SystemClock } from './adapters/system-clock.ts';
import { parseCommandLine } from './cli.ts';
import { isSubcommand, runSubcommand } from './commands/subcommands.ts';
import { type Config, parseConfig } from './core/config.ts';
import { ConfigError, describeError, SupervisorError } from './core/errors.ts';
import { EXIT_CODES } from './core/exit-codes.ts';
import { isSafeName } from './core/names.ts';
import type { Outcome } from './core/outcome.ts';
import type { Logger, PodReadiness } from './core/ports.ts';
import { Supervisor } from './core/supervisor.ts';

/**
 * The composition root: parse, wire the real adapters, supervise, and return the exit code.
 * Every failure is turned into an exit code here, and only the caller of this function exits.
 */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  signals: ProcessSignals = new ProcessSignals(),
): Promise<number> {
  // A log reader that went away (EPIPE) must not crash the supervisor and orphan its child.
  process.stderr.on('error', () => {});
  try {
    if (isSubcommand(argv)) return await runSubcommand(argv, env);
    const line = parseCommandLine(argv, env, packageJson.version);
    if (line.kind === 'exit') {
      process.stdout.write(line.output);
      return line.code;
    }
    const config = parseConfig(line.raw);
    return await supervise(config, env, signals);
  } catch (error) {
    if (error instanceof ConfigError) return reportConfigError(error);
    if (error instanceof SupervisorError) {
      process.stderr.write(`kubexit: error: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(
      `kubexit: internal error: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    return EXIT_CODES.internal;
  }
}

async function supervise(
  config: Config,
  env: NodeJS.ProcessEnv,
  signals: ProcessSignals,
): Promise<number> {
  const clock = new SystemClock();
  const logger = new StreamLogger({
    name: config.name,
    level: config.logLevel,
    format: config.logFormat,
    now: () => clock.now(),
  });
  const graveyard = new FsGraveyard(config.graveyard);
  const watcher = new ChokidarWatcher(config.graveyard, {
    mode: config.watch,
    pollIntervalMs: config.pollIntervalMs,
    logger,
  });
  const ports = {
    graveyard,
    watcher,
    launcher: new ExecaLauncher(),
    signals,
    clock,
    logger,
    prober: new SystemProber(),
    poster: new FetchPoster(),
    podReadiness: await apiMode(config, env, logger),
  };
  keepSupervisingOnStrayErrors(logger);
  const outcome = await new Supervisor(config, ports).run();
  logOutcome(outcome, logger);
  return outcome.exitCode;
}

/**
 * Once the supervisor runs, an error thrown from some library callback must not crash kubexit:
 * that would leave no tombstone, and a sidecar waiting for this container's death would keep the
 * Job running forever. Log it and keep supervising; the child's exit still ends kubexit normally.
 */
function keepSupervisingOnStrayErrors(logger: Logger): void {
  const report = (error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.error(`unexpected error (kubexit keeps supervising; please report it): ${detail}`);
  };
  process.on('uncaughtException', report);
  process.on('unhandledRejection', report);
}

function logOutcome(outcome: Outcome, logger: Logger): void {
  const fields = { exitCode: outcome.exitCode, reason: outcome.reason, signal: outcome.signal };
  const failedHere = ['birth-timeout', 'spawn-failed', 'config-error', 'internal-error'].includes(
    outcome.reason,
  );
  if (failedHere) logger.error(outcome.message, fields);
  else logger.info(outcome.message, fields);
}

/**
 * kubexit's Kubernetes API mode: with the pod's name and namespace (downward API) and credentials,
 * a birth dependency is also ready when the pod status says so. The client library is loaded only
 * here, so containers that don't use it don't pay for it at startup.
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
    './adapters/kubernetes-pod-readiness.ts'
  );
  const kubeConfig = loadKubeConfig(env);
  if (kubeConfig === undefined) {
    logger.info(
      'no Kubernetes credentials (not in a cluster, no KUBECONFIG): birth dependencies are satisfied by tombstones only',
    );
    return undefined;
  }
  logger.debug(`Kubernetes API mode: following pod ${namespace}/${podName}`);
  return new KubernetesPodReadiness({ podName, namespace, kubeConfig, logger });
}

/**
 * Prints every configuration problem and, when the name and graveyard are usable, still writes a
 * tombstone (exit 2) so that containers depending on this one stop waiting for it.
 */
async function reportConfigError(error: ConfigError): Promise<number> {
  const name = error.containerName;
  process.stderr.write(`kubexit${name ? `[${name}]` : ''}: error: ${error.message}\n`);
  if (name === undefined || !isSafeName(name) || !error.graveyard?.startsWith('/'))
    return error.exitCode;
  const graveyard = new FsGraveyard(error.graveyard);
  const died = new SystemClock().now();
  try {
    await graveyard.prepare(name);
    await graveyard.write(name, { died, exitCode: error.exitCode, reason: 'config-error' });
  } catch (writeError) {
    const why = describeError(writeError);
    process.stderr.write(`kubexit[${name}]: error: could not write the tombstone either: ${why}\n`);
  }
  return error.exitCode;
}

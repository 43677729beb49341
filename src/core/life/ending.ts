import type { KnownSettings } from '../model/config.ts';
import { parseDuration } from '../model/duration.ts';
import { describeError } from '../model/errors.ts';
import { kubeletRestartsFailures, specOf } from '../model/options.ts';
import type { Clock, HttpPoster, Logger, TerminationLog } from '../ports.ts';
import type { Outcome } from './outcome.ts';
import { callShutdownUrls } from './shutdown-calls.ts';
import { terminationMessage } from './termination-message.ts';
import type { TombstoneWriter } from './tombstone-writer.ts';

/** What an ending needs to know; every field may be missing when the configuration is invalid. */
export type EndingSettings = Pick<
  KnownSettings,
  'shutdownUrls' | 'shutdownOnSuccessOnly' | 'shutdownTimeoutMs' | 'restartPolicy'
>;

export interface EndingPorts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly poster: HttpPoster;
  /** This container's tombstone; undefined when its name or graveyard is unknown. */
  readonly tombstone?: TombstoneWriter;
  /** Without a tombstone: why there is none, said after the outcome. */
  readonly noTombstone?: string;
  /** Where the kubelet reads why the container ended; undefined when unknown. */
  readonly terminationLog?: TerminationLog;
}

/** Reasons that are kubexit's own failure (logged as errors); the rest are the child's story. */
const FAILED_HERE = new Set(['birth-timeout', 'spawn-failed', 'config-error', 'internal-error']);
/** The option's own default, for an ending whose configuration gave no valid one. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = parseDuration(specOf('shutdownTimeout').default ?? '') ?? 0;

/**
 * The one way a container's life ends, whatever ended it — the child's exit, a death dependency,
 * a signal, a birth timeout, an invalid configuration, an internal error: say why, record the
 * death in the tombstone so that no dependent waits forever, say why where the kubelet shows it,
 * then ask the sidecars that can't be wrapped to quit. Returns the exit code.
 */
export async function endLife(
  outcome: Outcome,
  settings: EndingSettings,
  ports: EndingPorts,
): Promise<number> {
  const fields = { exitCode: outcome.exitCode, reason: outcome.reason, signal: outcome.signal };
  if (FAILED_HERE.has(outcome.reason)) ports.logger.error(outcome.message, fields);
  else ports.logger.info(outcome.message, fields);
  await recordDeath(outcome, ports);
  ports.terminationLog?.write(terminationMessage(outcome));
  await shutDownOthers(outcome, settings, ports);
  return outcome.exitCode;
}

async function recordDeath(outcome: Outcome, ports: EndingPorts): Promise<void> {
  if (ports.tombstone === undefined) {
    if (ports.noTombstone !== undefined) ports.logger.error(ports.noTombstone);
    return;
  }
  const { exitCode, signal, reason } = outcome;
  try {
    await ports.tombstone.died({ died: ports.clock.now(), exitCode, signal, reason });
  } catch (error) {
    ports.logger.error(
      `could not write the final tombstone, even after retries: ${describeError(error)}. Containers that depend on this one only see it end through its liveness socket (not the original kubexit in a mixed pod). Exiting with the true code ${exitCode} anyway.`,
    );
  }
}

/** Asks sidecars kubexit can't wrap to quit, once this container's life has ended. */
async function shutDownOthers(
  outcome: Outcome,
  settings: EndingSettings,
  ports: EndingPorts,
): Promise<void> {
  const urls = settings.shutdownUrls ?? [];
  if (urls.length === 0) return;
  if (outcome.exitCode !== 0 && settings.shutdownOnSuccessOnly === true) {
    ports.logger.info(
      `not calling the shutdown URLs: exit ${outcome.exitCode} and --shutdown-on-success-only is set`,
    );
    return;
  }
  if (outcome.exitCode !== 0 && kubeletRestartsFailures(settings.restartPolicy)) {
    ports.logger.info(
      `not calling the shutdown URLs: exit ${outcome.exitCode}, and with restartPolicy ${settings.restartPolicy} the kubelet restarts this container, which will need them`,
    );
    return;
  }
  await callShutdownUrls(urls, settings.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS, ports);
}

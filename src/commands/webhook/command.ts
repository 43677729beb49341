import { type InClusterApi, inClusterApi, ownNamespace } from '../../adapters/in-cluster-api.ts';
import { dockerConfigCredentials } from '../../adapters/registry/docker-credentials.ts';
import { parseDuration } from '../../core/model/duration.ts';
import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';
import { isData } from '../inject/data.ts';
import { imagesNeededFor } from '../inject/inject.ts';
import {
  type AdmissionSettings,
  choose,
  injectOptionsOf,
  plan,
  requestOf,
  responseOf,
  WEBHOOK_MODES,
  type WebhookMode,
} from './admission.ts';
import { ConfigFile } from './config-file.ts';
import { ImageResolver } from './image-resolver.ts';
import { type Log, loggerOf } from './log.ts';
import { WebhookMetrics } from './metrics.ts';
import { WebhookServer } from './server.ts';

/** `kubexit webhook`'s options, each a flag and a KUBEXIT_WEBHOOK_* variable. */
export interface WebhookCommandOptions {
  readonly listen: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly mode: string;
  readonly config?: string;
  readonly image: string;
  readonly kubernetesVersion?: string;
  readonly namespace?: string;
  readonly registryTimeout: string;
  readonly logFormat: string;
  readonly maxInFlight: string;
  readonly maxBody: string;
  readonly shutdownDelay: string;
  readonly drainTimeout: string;
  readonly reloadInterval: string;
}

/**
 * Runs the admission webhook until SIGTERM or SIGINT; then `/readyz` fails for the shutdown delay
 * (the Service stops sending), the server stops taking connections and the requests in flight
 * are answered (up to the drain timeout). Exit 0 once drained.
 */
export async function runWebhook(
  options: WebhookCommandOptions,
  env: NodeJS.ProcessEnv,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const log = loggerOf(options.logFormat);
  const mode = modeOf(options.mode);
  const { host, port } = listenOf(options.listen);
  const durations = {
    registry: durationOf('--registry-timeout', options.registryTimeout),
    shutdownDelay: durationOf('--shutdown-delay', options.shutdownDelay),
    drain: durationOf('--drain-timeout', options.drainTimeout),
    reload: durationOf('--reload-interval', options.reloadInterval),
  };
  if (options.tlsCertFile === undefined || options.tlsKeyFile === undefined)
    throw webhookError(
      '--tls-cert-file and --tls-key-file are required: the API server calls webhooks over HTTPS only (deploy/ shows how to get them, with cert-manager or without)',
    );
  const metrics = new WebhookMetrics();
  const api = inClusterApi(env);
  const config = new ConfigFile(options.config, metrics, log);
  const native = mode === 'wrap' ? false : await nativeSidecarsAvailable(options, api, log);
  const namespace = options.namespace ?? ownNamespace();
  // Read for each admission: the configuration may have been reloaded since the last one.
  const settings = (): AdmissionSettings => ({
    config: config.current,
    mode,
    nativeSidecarsAvailable: native,
    image: options.image,
    ownNamespace: namespace,
  });
  const resolver = new ImageResolver({
    credentials: dockerConfigCredentials(env),
    api,
    timeoutMs: durations.registry,
    metrics,
  });
  let server: WebhookServer;
  try {
    server = new WebhookServer({
      host,
      port,
      certFile: options.tlsCertFile,
      keyFile: options.tlsKeyFile,
      reloadIntervalMs: durations.reload,
      maxBodyBytes: positive('--max-body', options.maxBody),
      maxInFlight: positive('--max-in-flight', options.maxInFlight),
      metrics,
      admit: (body, annotated) =>
        admit(body, { ...settings(), optInByAnnotation: annotated }, resolver, metrics, log),
      log,
    });
  } catch (error) {
    throw webhookError(`${(error as Error).message}: give the serving certificate and its key`);
  }
  const address = await server.start().catch((error: NodeJS.ErrnoException) => {
    throw webhookError(
      `could not listen on ${options.listen} (${error.code}): give another --listen`,
    );
  });
  config.watch(durations.reload);
  log('info', `listening on ${address.address}:${address.port}`, {
    mode,
    nativeSidecars: native,
    presets: config.current.presets,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      log('info', `${signal}: draining`, { inFlight: server.inFlight });
      server.stopAccepting();
      setTimeout(resolve, durations.shutdownDelay).unref();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
  });
  config.stop();
  const drained = await server.drain(durations.drain);
  log(drained ? 'info' : 'warn', drained ? 'drained' : 'drain timed out: connections closed');
  return 0;
}

/** One AdmissionReview: parsed, decided, its images read (wrap mode), answered, counted, logged. */
async function admit(
  body: unknown,
  settings: AdmissionSettings,
  resolver: ImageResolver,
  metrics: WebhookMetrics,
  log: Log,
): Promise<{ status: number; body: unknown }> {
  const started = process.hrtime.bigint();
  const request = requestOf(body);
  if ('error' in request) return { status: 400, body: { error: request.error } };
  const chosen = choose(request, settings);
  const pod = request.object;
  let decision: ReturnType<typeof plan>;
  if ('skip' in chosen)
    decision = { outcome: 'skipped', reason: chosen.skip, patch: [], warnings: [] };
  else {
    const needs =
      chosen.mode === 'wrap' ? imagesNeededFor(pod, injectOptionsOf(settings, 'wrap')) : [];
    const found = await resolver.resolve(needs, podPullSecrets(pod), request.namespace);
    decision =
      found.failed.length > 0
        ? {
            outcome: 'failed',
            mode: chosen.mode,
            reason: 'image lookups failed',
            patch: [],
            warnings: found.failed.map(
              (failure) =>
                `kubexit: pod admitted unchanged: what container ${failure.container} (image ${failure.image}) runs could not be read in time (${failure.reason}); give it a command, or check the registry`,
            ),
          }
        : plan(pod, chosen.mode, settings, found.images);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  metrics.admission(decision.outcome, decision.mode ?? 'none', seconds);
  const metadata = isData(pod) && isData(pod.metadata) ? pod.metadata : {};
  log('info', `${decision.outcome}: ${decision.reason}`, {
    uid: request.uid,
    namespace: request.namespace,
    pod: String(metadata.name ?? metadata.generateName ?? ''),
    mode: decision.mode,
    dryRun: request.dryRun,
    ms: Math.round(seconds * 1000 * 100) / 100,
  });
  return { status: 200, body: responseOf(request.uid, decision) };
}

function podPullSecrets(pod: unknown): string[] {
  const spec = isData(pod) && isData(pod.spec) ? pod.spec : {};
  return Array.isArray(spec.imagePullSecrets)
    ? spec.imagePullSecrets.filter(isData).map((secret) => String(secret.name ?? ''))
    : [];
}

/** Whether the cluster runs native sidecars: 1.29 or later, from the flag or the API server. */
async function nativeSidecarsAvailable(
  options: WebhookCommandOptions,
  api: InClusterApi | undefined,
  log: Log,
): Promise<boolean> {
  let version = options.kubernetesVersion;
  if (version === undefined && api !== undefined) {
    try {
      const answer = (await api.get('/version', 5_000)) as { major?: string; minor?: string };
      version = `${answer.major}.${answer.minor}`;
    } catch (error) {
      log(
        'warn',
        `the API server's version could not be read (${(error as Error).message}): kubexit is wired instead of native sidecars; give --kubernetes-version`,
      );
      return false;
    }
  }
  if (version === undefined) {
    log(
      'warn',
      'not in a cluster and no --kubernetes-version: kubexit is wired instead of native sidecars',
    );
    return false;
  }
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (match === null)
    throw webhookError(
      `--kubernetes-version ${version} is not a version: give MAJOR.MINOR, such as 1.31`,
    );
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 1 || minor >= 29;
}

function modeOf(text: string): WebhookMode {
  if (!(WEBHOOK_MODES as readonly string[]).includes(text))
    throw webhookError(`--mode ${text} is not a mode: use ${WEBHOOK_MODES.join(', ')}`);
  return text as WebhookMode;
}

/** `:8443`, `0.0.0.0:8443`, `[::1]:8443`. */
function listenOf(text: string): { host: string | undefined; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65535)
    throw webhookError(
      `--listen ${text} is not an address: give HOST:PORT or :PORT, such as :8443`,
    );
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

function durationOf(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0)
    throw webhookError(`${flag} ${text} is not a duration: give one such as 3s or 500ms`);
  return ms;
}

function positive(flag: string, text: string): number {
  const units: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2 };
  const match = /^(\d+)(Ki|Mi)?$/.exec(text.trim());
  const value = match === null ? Number.NaN : Number(match[1]) * (units[match[2] ?? ''] ?? 1);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw webhookError(
      `${flag} ${text} is not a positive number: give one such as 64 (or 3Mi for sizes)`,
    );
  return value;
}

function webhookError(message: string): SupervisorError {
  return new SupervisorError(`kubexit webhook: ${message}`, EXIT_CODES.config);
}

import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import { describeError, SupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';
import type { Logger, PodFacts, PodReadiness } from '../core/ports.ts';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The Role rule API mode needs, quoted in the error that says it is missing. */
export const REQUIRED_RULE =
  '{apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"]}';

export interface KubernetesPodReadinessOptions {
  readonly podName: string;
  readonly namespace: string;
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** First and largest pause between reconnection attempts. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * Credentials for API mode: the file(s) in KUBECONFIG when set (local runs and tests), otherwise
 * the pod's service account. Undefined when neither exists: API mode is then off.
 */
export function loadKubeConfig(env: NodeJS.ProcessEnv): KubeConfig | undefined {
  const config = new KubeConfig();
  if (env.KUBECONFIG) {
    for (const path of env.KUBECONFIG.split(':').filter((entry) => entry !== '')) {
      if (!existsSync(path))
        throw new SupervisorError(
          `KUBECONFIG names ${path}, which does not exist: mount the kubeconfig there, or unset KUBECONFIG to use the pod's service account`,
          EXIT_CODES.config,
        );
    }
    return loaded(config, () => config.loadFromDefault(), `KUBECONFIG=${env.KUBECONFIG}`);
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN))
    return loaded(config, () => config.loadFromCluster(), "the pod's service account");
  return undefined;
}

/**
 * Runs a loader, and turns its failure into a configuration error that names the source but
 * never quotes it: the client library's messages quote the file's lines, and a kubeconfig holds
 * tokens and keys.
 */
function loaded(config: KubeConfig, load: () => void, source: string): KubeConfig {
  try {
    load();
    config.makeApiClient(CoreV1Api);
  } catch (error) {
    const kind = error instanceof Error ? error.name : typeof error;
    throw new SupervisorError(
      `${source} could not be used as Kubernetes credentials (${kind}; the content is not shown, as it holds secrets): check it with kubectl config view`,
      EXIT_CODES.config,
    );
  }
  return config;
}

/** The pod spec's restart policy and every container name; undefined without a pod. */
export function podFacts(pod: V1Pod | undefined): PodFacts | undefined {
  if (pod?.spec === undefined) return undefined;
  const {
    restartPolicy,
    containers = [],
    initContainers = [],
    ephemeralContainers = [],
  } = pod.spec;
  const names = [...containers, ...initContainers, ...ephemeralContainers].map((c) => c.name);
  return { restartPolicy, containers: names };
}

/** Names of the containers the pod status reports ready, native sidecars (init containers) included. */
export function readyContainers(pod: V1Pod | undefined): Set<string> {
  const statuses = [
    ...(pod?.status?.containerStatuses ?? []),
    ...(pod?.status?.initContainerStatuses ?? []),
  ];
  return new Set(statuses.filter((status) => status.ready).map((status) => status.name));
}

/**
 * Follows one pod's container readiness: list it (for a resourceVersion), then watch from there;
 * on a dropped watch or "410 Gone" (the resourceVersion expired) list again; on errors retry with
 * exponential backoff. A missing RBAC permission is reported once, naming the rule, and API mode
 * stops: tombstones still work.
 */
export class KubernetesPodReadiness implements PodReadiness {
  readonly #options: KubernetesPodReadinessOptions;
  readonly #api: CoreV1Api;
  #closed = false;
  #abort: AbortController | undefined;
  #wakeSleep: () => void = () => {};
  #stopped: Promise<void> = Promise.resolve();

  constructor(options: KubernetesPodReadinessOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Settles when following has stopped for good (closed, or refused by RBAC). */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  start(onChange: (ready: ReadonlySet<string> | undefined, facts?: PodFacts) => void): void {
    this.#stopped = this.#follow(onChange);
  }

  close(): void {
    this.#closed = true;
    this.#abort?.abort();
    this.#wakeSleep();
  }

  async #follow(
    onChange: (ready: ReadonlySet<string> | undefined, facts?: PodFacts) => void,
  ): Promise<void> {
    const { initialMs, maxMs } = this.#options.backoff ?? { initialMs: 250, maxMs: 10_000 };
    let delay = initialMs;
    let failures = 0;
    while (!this.#closed) {
      const ended = await this.#listAndWatch(onChange).catch((error: unknown) => ({ error }));
      if (this.#closed) return;
      if ('error' in ended) {
        if (this.#forbidden(ended.error)) {
          onChange(undefined);
          return;
        }
        failures++;
        this.#reportFailure(ended.error, failures, delay);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, maxMs);
      } else {
        this.#options.logger.debug(`pod watch ended (${ended.reason}); listing again`);
        failures = 0;
        delay = initialMs;
      }
    }
  }

  /** One cycle: list, then watch until the watch ends. Resolves with why it ended; rejects on errors. */
  async #listAndWatch(
    onChange: (ready: ReadonlySet<string>, facts?: PodFacts) => void,
  ): Promise<{ reason: string }> {
    const { podName, namespace } = this.#options;
    const fieldSelector = `metadata.name=${podName}`;
    const list = await this.#api.listNamespacedPod({ namespace, fieldSelector });
    if (list.items.length === 0)
      this.#options.logger.warn(
        `pod ${namespace}/${podName} not found through the Kubernetes API; check KUBEXIT_POD_NAME and KUBEXIT_NAMESPACE`,
      );
    onChange(readyContainers(list.items[0]), podFacts(list.items[0]));
    return this.#watch(list.metadata?.resourceVersion, onChange);
  }

  #watch(
    resourceVersion: string | undefined,
    onChange: (ready: ReadonlySet<string>, facts?: PodFacts) => void,
  ): Promise<{ reason: string }> {
    const { podName, namespace, kubeConfig } = this.#options;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const query = {
      fieldSelector: `metadata.name=${podName}`,
      resourceVersion,
      allowWatchBookmarks: true,
    };
    return new Promise((resolve, reject) => {
      let expired = false;
      const onEvent = (type: string, object: V1Pod & { code?: number }) => {
        if (type === 'ERROR') {
          expired = object.code === 410;
          this.#abort?.abort();
          return;
        }
        if (type === 'ADDED' || type === 'MODIFIED')
          onChange(readyContainers(object), podFacts(object));
        if (type === 'DELETED') onChange(new Set());
      };
      const onDone = (error: unknown) => {
        if (expired) resolve({ reason: 'resource version expired (410 Gone)' });
        else if (error && !this.#closed) reject(error);
        else resolve({ reason: 'closed by the server' });
      };
      new Watch(kubeConfig).watch(path, query, onEvent, onDone).then((controller) => {
        this.#abort = controller;
        if (this.#closed) controller.abort();
      }, reject);
    });
  }

  /** 401/403: no point retrying. One error naming the fix, then API mode stops. */
  #forbidden(error: unknown): boolean {
    const status = statusOf(error);
    if (status !== 401 && status !== 403) return false;
    const { namespace } = this.#options;
    this.#options.logger.error(
      `the Kubernetes API refused to show pods in namespace ${namespace} (HTTP ${status}); grant the pod's service account a Role with the rule ${REQUIRED_RULE} and a RoleBinding (see examples/api-mode-rbac.yaml). Until then birth dependencies are satisfied by tombstones only.`,
    );
    return true;
  }

  /** The first failure is a warning; repeats are debug lines, so an outage doesn't flood the log. */
  #reportFailure(error: unknown, failures: number, delay: number): void {
    const message = `Kubernetes API: ${describeError(error)}; retrying in ${delay}ms`;
    if (failures === 1) this.#options.logger.warn(message);
    else this.#options.logger.debug(message);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function statusOf(error: unknown): number | undefined {
  const candidate = error as { code?: unknown; statusCode?: unknown } | null;
  if (typeof candidate?.code === 'number') return candidate.code;
  if (typeof candidate?.statusCode === 'number') return candidate.statusCode;
  return undefined;
}

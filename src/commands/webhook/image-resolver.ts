import type { InClusterApi } from '../../adapters/in-cluster-api.ts';
import {
  type CredentialSource,
  type Credentials,
  credentialsInAuths,
} from '../../adapters/registry/docker-credentials.ts';
import type { CachedCommand } from '../../adapters/registry/image-cache.ts';
import { readImageCommand } from '../../adapters/registry/registry-client.ts';
import { type ImageCommand, type ImageNeed, imageKey } from '../inject/images.ts';
import type { WebhookMetrics } from './metrics.ts';

/**
 * What the images of a pod run, for the webhook: read from their registries within a deadline
 * well inside the webhook's `timeoutSeconds`, with the pod's image pull secrets (then the
 * webhook's own Docker config), and kept in memory — by digest for good, by tag for ten minutes.
 * A lookup still running at the deadline goes on and fills the cache for the next pod.
 */
export type RegistryLookUp = (
  image: string,
  platform: string,
  credentials: CredentialSource,
  timeoutMs: number,
) => Promise<CachedCommand>;

export interface ResolverOptions {
  readonly credentials: CredentialSource;
  readonly api: InClusterApi | undefined;
  readonly timeoutMs: number;
  readonly metrics: WebhookMetrics;
  readonly lookUp?: RegistryLookUp;
}

export interface Resolved {
  readonly images: Map<string, ImageCommand>;
  readonly failed: ReadonlyArray<{ container: string; image: string; reason: string }>;
}

const TAG_TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 2_000;

export class ImageResolver {
  readonly #options: ResolverOptions;
  readonly #lookUp: RegistryLookUp;
  readonly #cache = new Map<string, { command: CachedCommand; expires: number }>();
  readonly #pending = new Map<string, Promise<CachedCommand>>();

  constructor(options: ResolverOptions) {
    this.#options = options;
    this.#lookUp =
      options.lookUp ??
      ((image, platform, credentials, timeoutMs) =>
        readImageCommand(image, platform, { credentials, timeoutMs }));
  }

  async resolve(
    needs: readonly ImageNeed[],
    pullSecrets: readonly string[],
    namespace: string,
  ): Promise<Resolved> {
    const images = new Map<string, ImageCommand>();
    const failed: Array<{ container: string; image: string; reason: string }> = [];
    if (needs.length === 0) return { images, failed };
    const deadline = Date.now() + this.#options.timeoutMs;
    const credentials = this.#credentialsFor(pullSecrets, namespace, deadline);
    await Promise.all(
      needs.map(async (need) => {
        const key = imageKey(need.image, need.platform);
        try {
          images.set(key, await this.#command(need, credentials, deadline));
        } catch (error) {
          failed.push({
            container: need.container,
            image: need.image,
            reason: (error as Error).message,
          });
        }
      }),
    );
    return { images, failed };
  }

  async #command(
    need: ImageNeed,
    credentials: CredentialSource,
    deadline: number,
  ): Promise<CachedCommand> {
    const key = imageKey(need.image, need.platform);
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.expires > Date.now()) {
      this.#options.metrics.cacheHit();
      return cached.command;
    }
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      // The pod waits until its deadline; the lookup may go on past it (up to four times as long)
      // to fill the cache for the next pod with this image.
      pending = this.#lookUp(need.image, need.platform, credentials, this.#options.timeoutMs * 4);
      this.#pending.set(key, pending);
      pending
        .then((command) => {
          this.#options.metrics.lookup('ok');
          this.#remember(key, need.image, command);
        })
        .catch(() => this.#options.metrics.lookup('error'))
        .finally(() => this.#pending.delete(key));
    }
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.#options.timeoutMs} ms`)),
        Math.max(0, left),
      );
    });
    try {
      return await Promise.race([pending, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #remember(key: string, image: string, command: CachedCommand): void {
    if (this.#cache.size >= MAX_ENTRIES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    const expires = image.includes('@sha256:') ? Number.POSITIVE_INFINITY : Date.now() + TAG_TTL_MS;
    this.#cache.set(key, { command, expires });
  }

  /**
   * The pod's pull secrets first (read from the API, once, and only when a registry asks for
   * credentials: a pod whose images are cached costs the API nothing), then the webhook's own
   * Docker config.
   */
  #credentialsFor(
    pullSecrets: readonly string[],
    namespace: string,
    deadline: number,
  ): CredentialSource {
    const api = this.#options.api;
    let secrets: Promise<unknown[]> | undefined;
    const read = (name: string) =>
      (api as InClusterApi)
        .get(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
          Math.max(1, deadline - Date.now()),
        )
        .then(authsOfSecret)
        .catch(() => undefined);
    return async (registry) => {
      secrets ??= api === undefined ? Promise.resolve([]) : Promise.all(pullSecrets.map(read));
      for (const auths of await secrets) {
        const found: Credentials | undefined = credentialsInAuths(auths, registry);
        if (found !== undefined) return found;
      }
      return this.#options.credentials(registry);
    };
  }
}

/** The `auths` of a `kubernetes.io/dockerconfigjson` (or legacy `dockercfg`) secret. */
function authsOfSecret(secret: unknown): unknown {
  const data = (secret as { data?: Record<string, string> } | undefined)?.data ?? {};
  const json = data['.dockerconfigjson'] ?? data['.dockercfg'];
  if (json === undefined) return undefined;
  const parsed = JSON.parse(Buffer.from(json, 'base64').toString('utf8')) as { auths?: unknown };
  return data['.dockerconfigjson'] !== undefined ? parsed.auths : parsed;
}

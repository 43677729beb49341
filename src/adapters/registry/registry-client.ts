import { createHash } from 'node:crypto';
import type { CredentialSource, Credentials } from './docker-credentials.ts';
import type { CachedCommand, ImageCache } from './image-cache.ts';
import { type ImageReference, isLoopback, parseImageReference } from './image-reference.ts';

/**
 * Reads what an image runs — its config's ENTRYPOINT and CMD — from its registry, over the OCI
 * distribution API: the manifest (an image index or manifest list is resolved to the platform's
 * image), then the config blob. Anonymous first; a 401 answered as the registry says, Bearer
 * (a token from its realm, with the user's credentials if they have some: Docker Hub, ghcr.io)
 * or Basic. Every document fetched by digest is checked against it. Cached by digest.
 *
 * On fetch: registries listen on the ports fetch allows (443, 5000), and its redirects drop the
 * Authorization header when a blob is served from another origin (a CDN), as they must.
 */
export interface RegistryOptions {
  readonly credentials: CredentialSource;
  readonly cache?: ImageCache;
  /** The whole lookup of one image, token and redirects included. */
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

/** Why a lookup failed, for the message the user gets. */
export class RegistryError extends Error {
  readonly reason: 'unreachable' | 'unauthorized' | 'not-found' | 'invalid';
  constructor(reason: RegistryError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const MANIFEST_TYPES = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');
/** Manifests are a few KiB; configs of images with long histories, a few hundred. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** An image's ENTRYPOINT and CMD for a platform (`os/arch[/variant]`). */
export async function readImageCommand(
  image: string,
  platform: string,
  options: RegistryOptions,
): Promise<CachedCommand> {
  let reference: ImageReference;
  try {
    reference = parseImageReference(image);
  } catch (error) {
    throw new RegistryError('invalid', (error as Error).message);
  }
  const cacheKey = (digest: string, forPlatform: boolean) =>
    forPlatform
      ? `${reference.apiHost}/${reference.repository}@${digest} ${platform}`
      : `${reference.apiHost}/${reference.repository}@${digest}`;
  if (reference.digest !== undefined) {
    const cached = await options.cache?.get(cacheKey(reference.digest, true));
    if (cached !== undefined) return cached;
  }
  const session = new Session(reference, options);
  const top = await session.manifest(reference.reference, reference.digest);
  const manifest = isIndex(top.document)
    ? await session.manifest(pickPlatform(top.document, platform, image), undefined, true)
    : top;
  const config = (manifest.document as { config?: { digest?: unknown } }).config?.digest;
  if (typeof config !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(config))
    throw new RegistryError('invalid', `the manifest of ${image} names no config by sha256 digest`);
  let command = await options.cache?.get(cacheKey(manifest.digest, false));
  if (command === undefined) {
    command = commandOf(await session.blob(config, MAX_CONFIG_BYTES), image);
    await options.cache?.set(cacheKey(manifest.digest, false), command);
  }
  await options.cache?.set(cacheKey(top.digest, true), command);
  return command;
}

/** The image of a platform in an image index; the platforms it has when it has none. */
function pickPlatform(index: Index, platform: string, image: string): string {
  const [os, architecture, variant] = platform.split('/');
  const entries = index.manifests.filter(
    (entry) => typeof entry.digest === 'string' && entry.platform !== undefined,
  );
  const found =
    entries.find(
      (entry) =>
        entry.platform?.os === os &&
        entry.platform?.architecture === architecture &&
        (variant === undefined || entry.platform?.variant === variant),
    ) ?? undefined;
  if (found === undefined) {
    const has = entries
      .map((entry) =>
        [entry.platform?.os, entry.platform?.architecture, entry.platform?.variant]
          .filter(Boolean)
          .join('/'),
      )
      .filter((name) => !name.startsWith('unknown'));
    throw new RegistryError(
      'not-found',
      `${image} has no image for ${platform} (it has ${has.join(', ') || 'none'}): give the pod's platform with --platform or its nodeSelector`,
    );
  }
  return found.digest as string;
}

interface Index {
  manifests: Array<{
    digest?: unknown;
    platform?: { os?: string; architecture?: string; variant?: string };
  }>;
}

function isIndex(document: unknown): document is Index {
  const value = document as { mediaType?: unknown; manifests?: unknown };
  return Array.isArray(value?.manifests);
}

function commandOf(body: Buffer, image: string): CachedCommand {
  let config: { config?: { Entrypoint?: unknown; Cmd?: unknown } };
  try {
    config = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegistryError('invalid', `the config of ${image} is not JSON`);
  }
  const words = (value: unknown, field: string): string[] => {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value) && value.every((word) => typeof word === 'string')) return value;
    throw new RegistryError(
      'invalid',
      `the config of ${image} has a ${field} that is not a list of strings`,
    );
  };
  return {
    entrypoint: words(config.config?.Entrypoint, 'Entrypoint'),
    cmd: words(config.config?.Cmd, 'Cmd'),
  };
}

/** The requests of one lookup: one repository, its scheme and its authorization. */
class Session {
  readonly #reference: ImageReference;
  readonly #options: RegistryOptions;
  readonly #deadline: AbortSignal;
  readonly #fetch: typeof fetch;
  #scheme: 'https' | 'http' = 'https';
  #authorization: string | undefined;
  #credentials: Promise<Credentials | undefined> | undefined;

  constructor(reference: ImageReference, options: RegistryOptions) {
    this.#reference = reference;
    this.#options = options;
    this.#deadline = AbortSignal.timeout(options.timeoutMs);
    this.#fetch = options.fetch ?? fetch;
  }

  /** A manifest by tag or digest; by digest (or `verify`), checked against it. */
  async manifest(
    reference: string,
    digest: string | undefined,
    verify = false,
  ): Promise<{ document: unknown; digest: string }> {
    const body = await this.#get(`manifests/${reference}`, MANIFEST_TYPES, MAX_MANIFEST_BYTES);
    const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const expected = digest ?? (verify ? reference : undefined);
    if (expected !== undefined && actual !== expected)
      throw new RegistryError(
        'invalid',
        `the registry answered ${reference} with a manifest of digest ${actual}`,
      );
    try {
      return { document: JSON.parse(body.toString('utf8')), digest: actual };
    } catch {
      throw new RegistryError('invalid', `the manifest ${reference} is not JSON`);
    }
  }

  async blob(digest: string, maxBytes: number): Promise<Buffer> {
    const body = await this.#get(`blobs/${digest}`, '*/*', maxBytes);
    const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (actual !== digest)
      throw new RegistryError(
        'invalid',
        `the registry answered blob ${digest} with content of digest ${actual}`,
      );
    return body;
  }

  async #get(path: string, accept: string, maxBytes: number): Promise<Buffer> {
    const { apiHost, repository } = this.#reference;
    for (let challenged = false; ; ) {
      const url = `${this.#scheme}://${apiHost}/v2/${repository}/${path}`;
      const headers: Record<string, string> = { accept };
      if (this.#authorization !== undefined) headers.authorization = this.#authorization;
      let response: Response;
      try {
        response = await this.#fetch(url, { headers, signal: this.#deadline, redirect: 'follow' });
      } catch (error) {
        // A registry on this machine may serve plain HTTP, as docker allows for loopback.
        if (this.#scheme === 'https' && isLoopback(apiHost) && !this.#deadline.aborted) {
          this.#scheme = 'http';
          continue;
        }
        throw this.#unreachable(error);
      }
      if (response.status === 401 && !challenged) {
        challenged = true;
        await response.body?.cancel();
        this.#authorization = await this.#authorize(response.headers.get('www-authenticate'));
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw this.#refused(response.status, path);
      }
      return readLimited(response, maxBytes, `${apiHost}/${repository} ${path}`);
    }
  }

  /** The Authorization a registry's 401 challenge asks for. */
  async #authorize(challenge: string | null): Promise<string> {
    const host = this.#reference.registry;
    const scheme = /^\s*(\w+)/.exec(challenge ?? '')?.[1]?.toLowerCase();
    const credentials = await this.#credentialsOf();
    if (scheme === 'basic') {
      if (credentials === undefined) throw this.#refused(401, 'the registry');
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    if (scheme !== 'bearer')
      throw new RegistryError(
        'unauthorized',
        `${host} asks for an authentication kubexit doesn't know (${challenge ?? 'none'})`,
      );
    const params = Object.fromEntries(
      [...(challenge ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]?.toLowerCase(), m[2]]),
    );
    let realm: URL;
    try {
      realm = new URL(params.realm ?? '');
    } catch {
      throw new RegistryError('invalid', `${host} names no valid token realm (${challenge})`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && isLoopback(realm.host)))
      throw new RegistryError(
        'invalid',
        `${host} sends its tokens from ${realm.origin}, not over HTTPS: kubexit sends no credentials there`,
      );
    if (params.service !== undefined) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', `repository:${this.#reference.repository}:pull`);
    const headers: Record<string, string> = {};
    if (credentials !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    let response: Response;
    try {
      response = await this.#fetch(realm, { headers, signal: this.#deadline });
    } catch (error) {
      throw this.#unreachable(error);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw this.#refused(response.status === 403 ? 403 : 401, `a token from ${realm.origin}`);
    }
    let answer: { token?: unknown; access_token?: unknown };
    try {
      const body = await readLimited(response, 1024 * 1024, realm.origin);
      answer = JSON.parse(body.toString('utf8'));
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      throw new RegistryError('invalid', `${realm.origin} answered something other than JSON`);
    }
    const token = answer.token ?? answer.access_token;
    if (typeof token !== 'string' || token === '')
      throw new RegistryError('invalid', `${realm.origin} answered no token`);
    return `Bearer ${token}`;
  }

  #credentialsOf(): Promise<Credentials | undefined> {
    this.#credentials ??= this.#options
      .credentials(this.#reference.registry)
      .catch((error: Error) => {
        throw new RegistryError('unauthorized', error.message);
      });
    return this.#credentials;
  }

  #unreachable(error: unknown): RegistryError {
    if (this.#deadline.aborted)
      return new RegistryError(
        'unreachable',
        `${this.#reference.apiHost} did not answer within ${this.#options.timeoutMs / 1000} s`,
      );
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.message === 'bad port')
      return new RegistryError(
        'unreachable',
        `${this.#reference.apiHost}: Node's fetch refuses this port (one browsers block): serve the registry on another port, or give --entrypoint and --cmd`,
      );
    return new RegistryError(
      'unreachable',
      `${this.#reference.apiHost} can't be reached (${cause?.code ?? cause?.message ?? (error as Error).message})`,
    );
  }

  #refused(status: number, what: string): RegistryError {
    const { registry, repository } = this.#reference;
    if (status === 401 || status === 403)
      return new RegistryError(
        'unauthorized',
        `${registry} refused ${what === 'the registry' ? 'anonymous access' : `access to ${repository}`} (HTTP ${status}): log in (docker login ${registry}; kubexit reads $DOCKER_CONFIG or ~/.docker/config.json)`,
      );
    if (status === 404)
      return new RegistryError(
        'not-found',
        `${registry} has no ${repository} ${what.replace(/^manifests\//, 'tag or digest ')}`,
      );
    return new RegistryError(
      'unreachable',
      `${registry} answered HTTP ${status} for ${repository} ${what}`,
    );
  }
}

/** A response's body, refused past `maxBytes` (a registry is not trusted with memory). */
async function readLimited(response: Response, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new RegistryError('invalid', `${what} is larger than ${maxBytes / 1024 / 1024} MiB`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

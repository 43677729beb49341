import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A user name and password (or token) for a registry. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** What a registry client asks for a host's credentials (undefined: anonymous). */
export type CredentialSource = (registry: string) => Promise<Credentials | undefined>;

/** The time a credential helper gets (a keychain prompt is not waited for). */
const HELPER_TIMEOUT_MS = 10_000;

/**
 * Credentials from the user's Docker config, as `docker login` leaves them: the file in
 * `$DOCKER_CONFIG` or `~/.docker/config.json`; `auths` (base64 `user:password`, or username and
 * password), and a credential helper (`credHelpers` per host, `credsStore` for all) run as
 * `docker-credential-NAME get` with the host on its stdin — directly, never through a shell.
 * No config: anonymous. A config that can't be read as JSON is an error naming the file.
 */
export function dockerConfigCredentials(env: NodeJS.ProcessEnv): CredentialSource {
  const file = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
  let config: Promise<DockerConfig | undefined> | undefined;
  return async (registry) => {
    config ??= readConfig(file);
    const found = await config;
    if (found === undefined) return undefined;
    const keys = hostKeys(registry);
    const helper = keys.map((key) => found.credHelpers?.[key]).find((name) => name !== undefined);
    const entry = keys.map((key) => found.auths?.[key]).find((value) => value !== undefined);
    if (entry !== undefined) {
      const fromEntry = credentialsOf(entry);
      if (fromEntry !== undefined) return fromEntry;
    }
    const store = helper ?? found.credsStore;
    return store === undefined || store === ''
      ? undefined
      : fromHelper(store, keys[0] ?? registry, env);
  };
}

/**
 * The credentials a Docker config's `auths` hold for a registry (also the form of a Kubernetes
 * image pull secret's `.dockerconfigjson`).
 */
export function credentialsInAuths(auths: unknown, registry: string): Credentials | undefined {
  if (typeof auths !== 'object' || auths === null) return undefined;
  const entries = auths as Record<string, unknown>;
  for (const key of hostKeys(registry)) {
    const entry = entries[key];
    if (typeof entry === 'object' && entry !== null) {
      const found = credentialsOf(entry as { auth?: string; username?: string; password?: string });
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

async function readConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const config = JSON.parse(text) as unknown;
    return typeof config === 'object' && config !== null ? (config as DockerConfig) : {};
  } catch {
    throw new Error(
      `${file} is not valid JSON: fix it, or point DOCKER_CONFIG at another directory`,
    );
  }
}

/** The keys `docker login` files a registry under (Docker Hub's is its old v1 URL). */
function hostKeys(registry: string): string[] {
  if (registry === 'docker.io')
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`];
}

function credentialsOf(entry: {
  auth?: string;
  username?: string;
  password?: string;
}): Credentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string')
    return { username: entry.username, password: entry.password };
  return undefined;
}

/** `docker-credential-NAME get`: its JSON answer, or anonymous when it has nothing for the host. */
function fromHelper(
  name: string,
  host: string,
  env: NodeJS.ProcessEnv,
): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      ['get'],
      { env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, stdout) => {
        if (error !== null) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT')
            reject(
              new Error(
                `the Docker config names the credential helper ${name}, and ${program} is not on PATH: install it, or remove it from the config`,
              ),
            );
          else resolve(undefined); // "credentials not found": anonymous, as docker does.
          return;
        }
        try {
          const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
          resolve(
            typeof answer.Secret === 'string'
              ? { username: answer.Username ?? '', password: answer.Secret }
              : undefined,
          );
        } catch {
          reject(new Error(`${program} get answered something other than JSON`));
        }
      },
    );
    child.stdin?.end(host);
  });
}

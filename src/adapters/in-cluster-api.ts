import { readFileSync } from 'node:fs';
import { request } from 'node:https';

/**
 * GETs on the Kubernetes API from inside a pod, with its service account: the token read again
 * for each request (the kubelet rotates it), the cluster's CA verified. Written on node:https
 * rather than the Kubernetes client, which a webhook that asks two small questions (the server's
 * version, an image pull secret) should not load: it is most of kubexit's code.
 */
const ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterApi {
  /** The JSON at `path`; an error naming the path and the HTTP status otherwise. */
  get(path: string, timeoutMs: number): Promise<unknown>;
}

/** The API of the cluster this pod runs in, or undefined outside a cluster. */
export function inClusterApi(env: NodeJS.ProcessEnv, account = ACCOUNT): InClusterApi | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host === undefined || host === '') return undefined;
  let ca: Buffer;
  try {
    ca = readFileSync(`${account}/ca.crt`);
    readFileSync(`${account}/token`);
  } catch {
    return undefined;
  }
  const port = Number(env.KUBERNETES_SERVICE_PORT || 443);
  return {
    get: (path, timeoutMs) =>
      new Promise((resolve, reject) => {
        const token = readFileSync(`${account}/token`, 'utf8').trim();
        const call = request(
          {
            host,
            port,
            path,
            ca,
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
            signal: AbortSignal.timeout(timeoutMs),
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (response.statusCode !== 200)
                return reject(new Error(`GET ${path}: HTTP ${response.statusCode}`));
              try {
                resolve(JSON.parse(text));
              } catch {
                reject(new Error(`GET ${path}: not JSON`));
              }
            });
            response.on('error', reject);
          },
        );
        call.on('error', (error) => reject(new Error(`GET ${path}: ${error.message}`)));
        call.end();
      }),
  };
}

/** The namespace this pod runs in, from its service account (undefined outside a cluster). */
export function ownNamespace(account = ACCOUNT): string | undefined {
  try {
    return readFileSync(`${account}/namespace`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

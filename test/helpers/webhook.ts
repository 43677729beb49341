import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Container } from './kubexit.ts';
import { SELF_SIGNED } from './servers.ts';

/** `kubexit webhook` run for real, on a free loopback port, with the test certificate. */
export class RunningWebhook {
  readonly container: Container;
  port = 0;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    const tls = new URL('./tls/', import.meta.url).pathname;
    this.container = new Container(
      [
        'webhook',
        '--listen',
        '127.0.0.1:0',
        '--tls-cert-file',
        `${tls}localhost.crt`,
        '--tls-key-file',
        `${tls}localhost.key`,
        '--shutdown-delay',
        '0s',
        ...args,
      ],
      env,
    );
  }

  /**
   * Stops it as Kubernetes does (SIGTERM; it drains and exits) and waits for it: a SIGKILL would
   * reach only the built executable's front, and leave the Node behind it running.
   */
  async stop(): Promise<void> {
    this.container.kill('SIGTERM');
    await this.container.finishedWithin(20_000, 'the webhook to stop');
  }

  /** Waits for it to listen; its port. */
  async started(): Promise<this> {
    await this.container.logged(/listening on 127\.0\.0\.1:\d+/);
    this.port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(this.container.stderr)?.[1]);
    return this;
  }
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  /** The fingerprint of the certificate the server presented. */
  readonly certificate: string;
}

/** One HTTPS request as the API server makes it (the test CA trusted, a fresh connection). */
export function call(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  {
    ca = [SELF_SIGNED.cert] as Array<Buffer | string>,
    raw,
    servername = 'localhost',
  }: { ca?: Array<Buffer | string>; raw?: Buffer | string; servername?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const call = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca,
        servername,
        agent: false,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (response) => {
        const certificate = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, text, json, certificate });
        });
      },
    );
    call.on('error', reject);
    call.end(payload);
  });
}

/** An AdmissionReview v1 request for a pod, as the API server sends it. */
export function admissionReview(
  object: unknown,
  request: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${Math.random().toString(16).slice(2)}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'jobs',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:job-controller' },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      ...request,
    },
  };
}

/** The JSON Patch of an answer, decoded. */
export function patchOf(answer: Answer): unknown[] {
  const response = (answer.json as { response?: { patch?: string } } | undefined)?.response;
  return response?.patch === undefined
    ? []
    : JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}

/** A Job's pod: `app` as given, and a sidecar `db` the pod names by annotation. */
export function podWithSidecar(
  app: Record<string, unknown>,
  name = 'p',
  annotations: Record<string, string> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: { 'kubexit.io/sidecars': 'db', ...annotations } },
    spec: {
      restartPolicy: 'Never',
      containers: [app, { name: 'db', image: 'd', command: ['db'] }],
    },
  };
}

import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

interface ContainerReady {
  readonly name: string;
  readonly ready: boolean;
}

/**
 * A local stand-in for the Kubernetes API that serves one pod: list (with a resourceVersion) and
 * watch (newline-delimited JSON events), with switches for the failures API mode must survive.
 */
export class FakeKubeApi {
  readonly requests: Array<{ watch: boolean; url: string }> = [];
  /** Answer every request with this status (e.g. 403) instead of serving. */
  failWith: number | undefined;
  containers: ContainerReady[] = [];
  initContainers: ContainerReady[] = [];
  /** The pod spec's restartPolicy. */
  restartPolicy = 'Never';
  #resourceVersion = 100;
  readonly #watches = new Set<ServerResponse>();
  readonly #server: Server;

  readonly namespace: string;
  readonly podName: string;

  constructor(namespace: string, podName: string) {
    this.namespace = namespace;
    this.podName = podName;
    this.#server = createServer((request, response) => this.#serve(request, response));
  }

  /** Listens on `host` (loopback, or the host end of an emulated pod's network). */
  async listen(host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, host, resolve));
    return `http://${host}:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Writes a kubeconfig pointing at this server, for KUBECONFIG. */
  async kubeconfig(dir: string, host?: string): Promise<string> {
    const server = await this.listen(host);
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: local, cluster: {server: "' +
          server +
          '", insecure-skip-tls-verify: true}}]',
        'users: [{name: local, user: {token: test-token}}]',
        'contexts: [{name: local, context: {cluster: local, user: local}}]',
        'current-context: local',
      ].join('\n'),
    );
    return path;
  }

  get watchCount(): number {
    return this.requests.filter((r) => r.watch).length;
  }

  get listCount(): number {
    return this.requests.filter((r) => !r.watch).length;
  }

  /** Changes readiness and tells every open watch. */
  setReady(
    containers: ContainerReady[],
    initContainers: ContainerReady[] = this.initContainers,
  ): void {
    this.containers = containers;
    this.initContainers = initContainers;
    this.#resourceVersion++;
    this.#send({ type: 'MODIFIED', object: this.#pod() });
  }

  /** Ends every open watch, as an API server or a load balancer does from time to time. */
  dropWatches(): void {
    for (const response of this.#watches) response.end();
    this.#watches.clear();
  }

  /** Tells open watches their resourceVersion is too old (410 Gone), as after etcd compaction. */
  expireWatches(): void {
    this.#send({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 },
    });
  }

  close(): Promise<void> {
    this.dropWatches();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #serve(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://local');
    const watch = url.searchParams.get('watch') === 'true';
    this.requests.push({ watch, url: request.url ?? '' });
    const expected = `/api/v1/namespaces/${this.namespace}/pods`;
    const wrongPod = url.searchParams.get('fieldSelector') !== `metadata.name=${this.podName}`;
    const failure = this.failWith ?? (url.pathname !== expected || wrongPod ? 404 : undefined);
    if (failure !== undefined) {
      this.#status(response, failure);
      return;
    }
    if (!watch) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.#resourceVersion) },
          items: [this.#pod()],
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.write(
      `${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.#resourceVersion) } } })}\n`,
    );
    this.#watches.add(response);
    request.on('close', () => this.#watches.delete(response));
  }

  #send(event: object): void {
    for (const response of this.#watches) response.write(`${JSON.stringify(event)}\n`);
  }

  #status(response: ServerResponse, code: number): void {
    response.writeHead(code, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        code,
        message: `pods is forbidden: User "system:serviceaccount:${this.namespace}:default" cannot list resource "pods"`,
      }),
    );
  }

  #pod(): object {
    const statuses = (list: ContainerReady[]) =>
      list.map((c) => ({ name: c.name, ready: c.ready, restartCount: 0, image: 'x', imageID: '' }));
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: this.podName,
        namespace: this.namespace,
        resourceVersion: String(this.#resourceVersion),
      },
      spec: {
        restartPolicy: this.restartPolicy,
        containers: this.containers.map(({ name }) => ({ name, image: 'x' })),
        initContainers: this.initContainers.map(({ name }) => ({ name, image: 'x' })),
      },
      status: {
        phase: 'Running',
        containerStatuses: statuses(this.containers),
        initContainerStatuses: statuses(this.initContainers),
      },
    };
  }
}

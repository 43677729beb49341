import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server whose answer the test changes; records every request. */
export class TestHttpServer {
  readonly requests: Array<{ method: string; url: string }> = [];
  /** The Authorization header of each request ('' without one). */
  readonly authorizations: string[] = [];
  status = 200;
  /** When set, every request is answered 302 to this location. */
  redirectTo: string | undefined;
  /** When set, requests are held open and never answered. */
  hang = false;
  readonly #server: Server;

  constructor() {
    this.#server = createServer((request: IncomingMessage, response) => {
      this.requests.push({ method: request.method ?? '', url: request.url ?? '' });
      this.authorizations.push(request.headers.authorization ?? '');
      if (this.hang) return;
      if (this.redirectTo !== undefined) {
        response.writeHead(302, { location: this.redirectTo });
        response.end();
        return;
      }
      response.writeHead(this.status, { 'content-type': 'text/plain' });
      response.end(`${this.status}\n`);
    });
  }

  /** Listens on `port` (any free one by default); rejects when it is taken. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A port on loopback that nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server whose answer the test changes; records every request. */
export class TestHttpServer {
  readonly requests: Array<{ method: string; url: string }> = [];
  status = 200;
  /** When set, requests are held open and never answered. */
  hang = false;
  readonly #server: Server;

  constructor() {
    this.#server = createServer((request: IncomingMessage, response) => {
      this.requests.push({ method: request.method ?? '', url: request.url ?? '' });
      if (this.hang) return;
      response.writeHead(this.status, { 'content-type': 'text/plain' });
      response.end(`${this.status}\n`);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
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

import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A self-signed certificate for localhost and 127.0.0.1 (made once with openssl, valid for a
 * century): what a sidecar's HTTPS endpoint usually has, and what the kubelet's probes accept.
 */
const TLS_DIR = new URL('./tls/', import.meta.url);
export const SELF_SIGNED = {
  key: readFileSync(new URL('localhost.key', TLS_DIR)),
  cert: readFileSync(new URL('localhost.crt', TLS_DIR)),
};

/** A loopback HTTP (or HTTPS, self-signed) server whose answer the test changes; records every request. */
export class TestHttpServer {
  readonly requests: Array<{ method: string; url: string }> = [];
  /** The headers of each request. */
  readonly headers: IncomingHttpHeaders[] = [];
  /** The Authorization header of each request ('' without one). */
  readonly authorizations: string[] = [];
  status = 200;
  /** When set, every request is answered 302 to this location. */
  redirectTo: string | undefined;
  /** When set, requests are held open and never answered. */
  hang = false;
  readonly #server: Server;
  readonly #scheme: string;

  constructor(options: { tls?: boolean } = {}) {
    this.#scheme = options.tls === true ? 'https' : 'http';
    const handler = (request: IncomingMessage, response: import('node:http').ServerResponse) => {
      this.requests.push({ method: request.method ?? '', url: request.url ?? '' });
      this.headers.push(request.headers);
      this.authorizations.push(request.headers.authorization ?? '');
      if (this.hang) return;
      if (this.redirectTo !== undefined) {
        response.writeHead(302, { location: this.redirectTo });
        response.end();
        return;
      }
      response.writeHead(this.status, { 'content-type': 'text/plain' });
      response.end(`${this.status}\n`);
    };
    this.#server =
      options.tls === true ? createTlsServer(SELF_SIGNED, handler) : createServer(handler);
  }

  /** Listens on `port` (any free one by default); rejects when it is taken. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', resolve);
    });
    return `${this.#scheme}://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
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

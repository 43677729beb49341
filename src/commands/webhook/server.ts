import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { WebhookMetrics } from './metrics.ts';

/**
 * The webhook's HTTPS server: `POST /mutate` (AdmissionReview in, AdmissionReview out),
 * `/healthz`, `/readyz` and `/metrics`. Its certificate and key are read again whenever their files
 * change (cert-manager rotates them in place) and swapped in for new connections, no restart and
 * no request lost; a pair that doesn't load keeps the previous one. Bodies and requests in flight
 * are bounded; a request that takes too long to arrive is dropped.
 */
export interface WebhookServerOptions {
  /** undefined: every interface. */
  readonly host: string | undefined;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  /** How often the certificate files are read again. */
  readonly reloadIntervalMs: number;
  readonly maxBodyBytes: number;
  readonly maxInFlight: number;
  readonly metrics: WebhookMetrics;
  /** An admission request's parsed body → the status and the JSON to answer. */
  /**
   * An admission request's parsed body → the status and the JSON to answer. `annotated`: it came
   * to /mutate/annotated, for pods that opt in by annotation only.
   */
  readonly admit: (body: unknown, annotated: boolean) => Promise<{ status: number; body: unknown }>;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;
}

export class WebhookServer {
  readonly #options: WebhookServerOptions;
  readonly #server: Server;
  #pair: { cert: Buffer; key: Buffer };
  #reloader: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #draining = false;

  /** Loads the certificate and key: a missing or invalid pair is an error naming the files. */
  constructor(options: WebhookServerOptions) {
    this.#options = options;
    this.#pair = readPair(options.certFile, options.keyFile);
    this.#server = createServer(
      { ...this.#pair, minVersion: 'TLSv1.2' },
      (request, response) => void this.#handle(request, response),
    );
    // Requests are small and the API server sends them at once: a slow sender is dropped.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 15_000;
    this.#server.keepAliveTimeout = 30_000;
  }

  /** Listens; the address it listens on (port 0 picks one). */
  async start(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#reloader = setInterval(() => this.#reload(), this.#options.reloadIntervalMs);
    this.#reloader.unref();
    return this.#server.address() as AddressInfo;
  }

  get ready(): boolean {
    return !this.#draining && this.#server.listening;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Stops taking connections and lets the requests in flight finish (up to `timeoutMs`): what a
   * SIGTERM does, after `/readyz` has said so long enough for the Service to stop sending.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    clearInterval(this.#reloader);
    const closed = new Promise<boolean>((resolve) => this.#server.close(() => resolve(true)));
    this.#server.closeIdleConnections();
    const deadline = new Promise<boolean>((resolve) =>
      setTimeout(resolve, timeoutMs, false).unref(),
    );
    const drained = await Promise.race([closed, deadline]);
    if (!drained) this.#server.closeAllConnections();
    return drained;
  }

  /** Marks the server as going away: `/readyz` fails, connections are closed after their answer. */
  stopAccepting(): void {
    this.#draining = true;
  }

  #reload(): void {
    let pair: { cert: Buffer; key: Buffer };
    try {
      pair = readPair(this.#options.certFile, this.#options.keyFile);
    } catch (error) {
      this.#options.metrics.reload('certificate', 'error');
      this.#options.log(
        'warn',
        `certificate not reloaded, the previous one is kept: ${(error as Error).message}`,
      );
      return;
    }
    if (pair.cert.equals(this.#pair.cert) && pair.key.equals(this.#pair.key)) return;
    this.#server.setSecureContext(pair);
    this.#pair = pair;
    this.#options.metrics.reload('certificate', 'ok');
    this.#options.log('info', 'certificate reloaded');
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.#draining) response.setHeader('connection', 'close');
    const path = (request.url ?? '/').split('?')[0];
    try {
      if (request.method === 'GET' && path === '/healthz') return send(response, 200, 'ok\n');
      if (request.method === 'GET' && path === '/readyz')
        return this.ready ? send(response, 200, 'ok\n') : send(response, 503, 'draining\n');
      if (request.method === 'GET' && path === '/metrics')
        return send(response, 200, this.#options.metrics.text(), 'text/plain; version=0.0.4');
      if (path !== '/mutate' && path !== '/mutate/annotated')
        return this.#refuse(response, 404, 'not-found', `no ${path} here: POST /mutate`);
      if (request.method !== 'POST')
        return this.#refuse(response, 405, 'method', 'POST an AdmissionReview to /mutate');
      if (this.#inFlight >= this.#options.maxInFlight)
        return this.#refuse(
          response,
          429,
          'busy',
          `more than ${this.#options.maxInFlight} requests at once`,
        );
      this.#inFlight++;
      try {
        await this.#mutate(request, response, path === '/mutate/annotated');
      } finally {
        this.#inFlight--;
      }
    } catch (error) {
      this.#options.log('error', `request failed: ${(error as Error).message}`);
      if (!response.headersSent) this.#refuse(response, 500, 'internal', 'internal error');
      else response.destroy();
    }
  }

  async #mutate(
    request: IncomingMessage,
    response: ServerResponse,
    annotated: boolean,
  ): Promise<void> {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > this.#options.maxBodyBytes) return this.#tooLarge(request, response);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > this.#options.maxBodyBytes) return this.#tooLarge(request, response);
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return this.#refuse(response, 400, 'json', 'the body is not JSON: send an AdmissionReview');
    }
    const answer = await this.#options.admit(body, annotated);
    if (answer.status !== 200) this.#options.metrics.badRequest('review');
    send(response, answer.status, JSON.stringify(answer.body), 'application/json');
  }

  #tooLarge(request: IncomingMessage, response: ServerResponse): void {
    this.#refuse(
      response,
      413,
      'too-large',
      `bodies are limited to ${this.#options.maxBodyBytes} bytes`,
    );
    response.on('finish', () => request.destroy());
  }

  #refuse(response: ServerResponse, status: number, reason: string, message: string): void {
    this.#options.metrics.badRequest(reason);
    send(response, status, JSON.stringify({ error: message }), 'application/json');
  }
}

function send(response: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** A certificate and key that load together, or an error naming the files and why. */
function readPair(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  let pair: { cert: Buffer; key: Buffer };
  try {
    pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } catch (error) {
    throw new Error(
      `could not read ${certFile} and ${keyFile} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new Error(
      `${certFile} and ${keyFile} are not a PEM certificate and its key (${(error as Error).message})`,
    );
  }
  return pair;
}

import type { IncomingMessage, RequestOptions } from 'node:http';
import { redactUrl } from '../core/model/redact.ts';
import type { ProbeResult } from '../core/ports.ts';

/** Redirects followed before giving up, as browsers and curl -L do. */
const MAX_REDIRECTS = 5;

/**
 * One HTTP request with a deadline (the whole exchange, redirects included); 2xx is ok, the body
 * is drained so the connection is freed.
 *
 * On Node's http client, not fetch: fetch refuses the ports the browser Fetch standard blocks
 * (2049, 5060, 6000, 6665–6669, 10080, …), where sidecars do listen, and refuses URLs with
 * credentials. Here `http://user:password@host/` sends them as a Basic `Authorization` header,
 * and only to that origin: a redirect elsewhere drops it. http and https modules are loaded on
 * the first request: a container without http checks or shutdown URLs never pays for them.
 */
export interface RequestExtras {
  /** Sent to the first URL's origin only, as its credentials. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** An HTTPS certificate is not verified (https+insecure:// checks, as the kubelet's probes). */
  readonly insecure?: boolean;
}

export async function httpRequest(
  firstMethod: 'GET' | 'POST',
  url: string,
  timeoutMs: number,
  extras: RequestExtras = {},
): Promise<ProbeResult> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const origin = new URL(url);
  const authorization = basicAuthorization(origin);
  let target = origin;
  let method: string = firstMethod;
  for (let redirects = 0; ; redirects++) {
    let response: IncomingMessage;
    try {
      const headers: Record<string, string> = {};
      if (target.origin === origin.origin) {
        for (const [name, value] of extras.headers ?? []) headers[name.toLowerCase()] = value;
        if (authorization !== undefined) headers.authorization = authorization;
      }
      response = await send(method, target, headers, deadline, extras.insecure === true);
    } catch (error) {
      if (deadline.aborted) return { ok: false, detail: `no answer within ${timeoutMs}ms` };
      return { ok: false, detail: (error as NodeJS.ErrnoException).code ?? String(error) };
    }
    response.resume();
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      if (redirects >= MAX_REDIRECTS)
        return { ok: false, detail: `more than ${MAX_REDIRECTS} redirects` };
      try {
        target = new URL(location, target);
      } catch {
        return { ok: false, detail: `HTTP ${status} to an invalid location` };
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        return { ok: false, detail: `HTTP ${status} to ${redactUrl(target.href)}` };
      // A 303, and a POST answered by 301/302, becomes a GET, as browsers do.
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST'))
        method = 'GET';
      continue;
    }
    return { ok: status >= 200 && status < 300, detail: `HTTP ${status}` };
  }
}

function basicAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

function send(
  method: string,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  insecure: boolean,
): Promise<IncomingMessage> {
  // process.getBuiltinModule, not import(): the executable's scripts run without a module loader.
  const client =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  const options: RequestOptions & { rejectUnauthorized?: boolean } = {
    method,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: { ...headers, 'content-length': '0', connection: 'close' },
    signal,
    ...(insecure && url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
  };
  return new Promise((resolve, reject) => {
    const request = client.request(options, resolve);
    request.on('error', reject);
    request.end();
  });
}

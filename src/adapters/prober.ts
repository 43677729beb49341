import { constants } from 'node:fs';
import { connect } from 'node:net';
import type { CheckSpec } from '../core/checks.ts';
import { describeError } from '../core/errors.ts';
import type { HttpPoster, ProbeResult, Prober } from '../core/ports.ts';
import { probeExec } from './exec-check.ts';
import { close, fstat, open } from './fs-async.ts';

/** Runs readiness checks against the real network, filesystem and processes. */
export class SystemProber implements Prober {
  async probe(check: CheckSpec, timeoutMs: number): Promise<ProbeResult> {
    switch (check.kind) {
      case 'tcp':
        return probeTcp(check.host, check.port, timeoutMs);
      case 'http':
        return request('GET', check.url, timeoutMs);
      case 'file':
        return probeFile(check.path);
      case 'exec':
        return probeExec(check.command, check.args, timeoutMs);
    }
  }
}

/** POSTs to shutdown endpoints. */
export class FetchPoster implements HttpPoster {
  post(url: string, timeoutMs: number): Promise<ProbeResult> {
    return request('POST', url, timeoutMs);
  }
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const finish = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => finish({ ok: true, detail: 'connected' }));
    socket.once('timeout', () =>
      finish({ ok: false, detail: `no connection within ${timeoutMs}ms` }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: error.code ?? error.message }),
    );
  });
}

/** One HTTP request with a deadline; 2xx is ok. The body is drained so the connection is freed. */
async function request(
  method: 'GET' | 'POST',
  url: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    const response = await fetch(url, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
    await response.body?.cancel().catch(() => {});
    const detail = `HTTP ${response.status}`;
    return { ok: response.status >= 200 && response.status < 300, detail };
  } catch (error) {
    return { ok: false, detail: describeFetchError(error, timeoutMs) };
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return `no answer within ${timeoutMs}ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? describeError(error);
}

/** The file exists, is a regular file (after symlinks) and is not empty. Never blocks on a FIFO. */
async function probeFile(path: string): Promise<ProbeResult> {
  try {
    const fd = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await fstat(fd);
      if (!info.isFile()) return { ok: false, detail: 'not a regular file' };
      return info.size > 0
        ? { ok: true, detail: `${info.size} bytes` }
        : { ok: false, detail: 'empty' };
    } finally {
      await close(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, detail: code === 'ENOENT' ? 'does not exist' : (code ?? String(error)) };
  }
}

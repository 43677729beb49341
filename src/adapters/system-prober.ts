import { close as closeFd, constants, fstat as fstatFd, open as openFile } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import type { CheckSpec } from '../core/model/checks.ts';
import type { HttpPoster, ProbeResult, Prober } from '../core/ports.ts';
import { probeExec } from './exec-check.ts';
import { httpRequest } from './http-request.ts';

/**
 * The file check's calls, as promises over Node's callback API: asynchronous, as the file may sit
 * on any volume, a network one included; not node:fs/promises (why: docs/design.md, "File checks").
 */
const open = promisify(openFile);
const close = promisify(closeFd);
const fstat = promisify(fstatFd);

/** Runs readiness checks against the real network, filesystem and processes. */
export class SystemProber implements Prober {
  async probe(check: CheckSpec, timeoutMs: number): Promise<ProbeResult> {
    switch (check.kind) {
      case 'tcp':
        return probeTcp(check.host, check.port, timeoutMs);
      case 'http':
        return httpRequest('GET', check.url, timeoutMs, check);
      case 'file':
        return probeFile(check.path);
      case 'exec':
        return probeExec(check.command, check.args, timeoutMs);
    }
  }
}

/** POSTs to shutdown endpoints (Node's http client, see http-request.ts). */
export class HttpShutdownPoster implements HttpPoster {
  post(url: string, timeoutMs: number): Promise<ProbeResult> {
    return httpRequest('POST', url, timeoutMs);
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

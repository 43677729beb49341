import type { Clock, HttpPoster, Logger, ProbeResult } from '../ports.ts';

/** Attempts per URL, and the pause before the first retry (doubled each time). */
const ATTEMPTS = 3;
const FIRST_BACKOFF_MS = 200;
/** One call may not take longer than this, however much of the total budget is left. */
const MAX_CALL_MS = 2_000;

export interface ShutdownPorts {
  readonly poster: HttpPoster;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * POSTs to the shutdown endpoints of sidecars kubexit does not wrap (an Istio proxy, Linkerd, the
 * Cloud SQL Proxy), all at once, each retried a few times, and never for longer than `totalMs`
 * altogether: whatever the endpoints do, kubexit's exit is delayed by at most that.
 */
export async function callShutdownUrls(
  urls: readonly string[],
  totalMs: number,
  ports: ShutdownPorts,
): Promise<void> {
  if (urls.length === 0) return;
  let expired = false;
  let cancelDeadline = () => {};
  const deadline = new Promise<void>((resolve) => {
    cancelDeadline = ports.clock.setTimer(totalMs, () => {
      expired = true;
      resolve();
    });
  });
  const calls = urls.map((url) => callWithRetries(url, () => expired, ports));
  await Promise.race([Promise.all(calls), deadline]);
  cancelDeadline();
  if (expired)
    ports.logger.warn(`shutdown calls still unanswered after ${totalMs}ms: exiting anyway`);
}

async function callWithRetries(
  url: string,
  expired: () => boolean,
  ports: ShutdownPorts,
): Promise<void> {
  let last: ProbeResult = { ok: false, detail: 'not attempted' };
  for (let attempt = 1; attempt <= ATTEMPTS && !expired(); attempt++) {
    last = await ports.poster.post(url, MAX_CALL_MS);
    if (last.ok) {
      ports.logger.info(`shutdown call POST ${url}: ${last.detail}`);
      return;
    }
    if (attempt < ATTEMPTS) await pause(FIRST_BACKOFF_MS * 2 ** (attempt - 1), ports.clock);
  }
  if (!expired())
    ports.logger.warn(
      `shutdown call POST ${url} failed after ${ATTEMPTS} attempts: ${last.detail}`,
    );
}

function pause(ms: number, clock: Clock): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(ms, resolve);
  });
}

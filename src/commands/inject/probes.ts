import { type OptionKey, specOf } from '../../core/model/options.ts';
import { type Container, containersOf, type Data, isData, nameOf } from './data.ts';
import { injectError } from './text-editor.ts';

/** What inject tells the user about a manifest it still wrote out. */
export type Notice = (kind: 'warning' | 'note', message: string) => void;

/** A kubexit ready check made of a probe: KUBEXIT_READY_CHECK and its companions. */
export interface ReadyCheck {
  readonly check: string;
  readonly headers?: string;
  readonly timeout?: string;
}

/** Probe fields about timing: kubexit has its own (checks until the first pass). */
const TIMING_FIELDS = [
  'initialDelaySeconds',
  'periodSeconds',
  'successThreshold',
  'failureThreshold',
  'terminationGracePeriodSeconds',
];

/**
 * A sidecar's startupProbe (or readinessProbe) as a ready check: no API access or RBAC needed.
 * The startupProbe first: it says the sidecar has started and can serve (what the kubelet orders
 * native sidecars by), where a readinessProbe may also depend on what lies behind it (Cloud SQL
 * Proxy's /readiness on reaching the database, which its docs warn against).
 */
export function readyCheckOf(
  container: Container,
  where: string,
  notice: Notice,
): ReadyCheck | undefined {
  const field = isData(container.startupProbe)
    ? 'startupProbe'
    : isData(container.readinessProbe)
      ? 'readinessProbe'
      : undefined;
  if (field === undefined) return undefined;
  const probe = container[field] as Data;
  const name = nameOf(container);
  const of = `the ${field} of ${name}`;
  const timeout = typeof probe.timeoutSeconds === 'number' ? `${probe.timeoutSeconds}s` : undefined;
  const dropped = Object.keys(probe).filter(
    (key) => !['tcpSocket', 'httpGet', 'exec', 'timeoutSeconds'].includes(key),
  );
  if (!isData(probe.tcpSocket) && !isData(probe.httpGet) && !isData(probe.exec)) {
    const unsupported = dropped.filter((key) => !TIMING_FIELDS.includes(key));
    notice(
      'warning',
      `${where}: ${of} (${unsupported.join(', ') || 'empty'}) has no kubexit ready check; the main containers won't wait for ${name}`,
    );
    return undefined;
  }
  const timing = dropped.filter((key) => TIMING_FIELDS.includes(key));
  if (timing.length > 0)
    notice(
      'note',
      `${where}: ${of}: ${timing.join(', ')} not carried over: kubexit checks every ${specOf('readyInterval').default ?? ''} until the first pass (${envOf('readyInterval')})`,
    );
  const port = (action: Data) => portOf(container, action, `${where}: ${of}`);
  if (isData(probe.tcpSocket))
    return { check: `tcp://${hostOf(probe.tcpSocket)}:${port(probe.tcpSocket)}`, timeout };
  if (isData(probe.httpGet)) return { ...httpCheckOf(probe.httpGet, port), timeout };
  const command = isData(probe.exec) ? probe.exec.command : undefined;
  if (Array.isArray(command) && command.length > 0)
    return { check: `exec:${JSON.stringify(command.map(String))}`, timeout };
  notice('warning', `${where}: ${of} runs no command; the main containers won't wait for ${name}`);
  return undefined;
}

function httpCheckOf(http: Data, port: (action: Data) => number): ReadyCheck {
  const scheme = String(http.scheme ?? 'HTTP').toUpperCase();
  // The kubelet's HTTPS probes verify no certificate: neither does this check.
  const prefix = scheme === 'HTTPS' ? 'https+insecure' : 'http';
  const path = String(http.path ?? '/');
  const headers = Array.isArray(http.httpHeaders)
    ? http.httpHeaders
        .filter(isData)
        .map((header) => `${String(header.name)}: ${String(header.value ?? '')}`)
        .join('\n')
    : '';
  return {
    check: `${prefix}://${hostOf(http)}:${port(http)}${path.startsWith('/') ? '' : '/'}${path}`,
    ...(headers === '' ? {} : { headers }),
  };
}

/** A probe's port: a number, or the name of one of the container's ports. */
function portOf(container: Container, action: Data, of: string): number {
  const port = action.port;
  if (typeof port === 'number') return port;
  const named = containersOf(container, 'ports').find((item) => item.name === port);
  if (typeof named?.containerPort === 'number') return named.containerPort;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  throw injectError(`${of} names port ${JSON.stringify(port)}, which none of its ports is called`);
}

/** The kubelet connects to the pod's IP by default; within the pod that is localhost. */
function hostOf(action: Data): string {
  const host = action.host;
  if (host === undefined || host === null || host === '') return 'localhost';
  return String(host).includes(':') ? `[${String(host)}]` : String(host);
}

/** The environment variable of an option, from the option table. */
export function envOf(key: OptionKey): string {
  return specOf(key).env;
}

/**
 * Readiness checks: what "ready" means for this container, or for an endpoint a birth dependency
 * names. Parsed here, executed by the prober adapter.
 *
 *   tcp://host:port         a TCP connection is accepted
 *   http://… / https://…    a GET answers 2xx (redirects followed)
 *   https+insecure://…      the same without verifying the certificate, as the kubelet's probes
 *   file:///path            the file exists and is not empty (symlinks followed: projected volumes use them)
 *   exec:cmd arg…           the command exits 0 (no shell; arguments split on spaces,
 *                           or a JSON array: exec:["cmd","an arg"])
 */
import { redactSecrets } from './redact.ts';

export type CheckSpec =
  | { readonly kind: 'tcp'; readonly text: string; readonly host: string; readonly port: number }
  | {
      readonly kind: 'http';
      readonly text: string;
      readonly url: string;
      /** Certificates not verified (https+insecure://), as the kubelet's HTTPS probes. */
      readonly insecure: boolean;
      /** Request headers (a ready check's KUBEXIT_READY_CHECK_HEADERS), sent to its origin only. */
      readonly headers: ReadonlyArray<readonly [string, string]>;
    }
  | { readonly kind: 'file'; readonly text: string; readonly path: string }
  | {
      readonly kind: 'exec';
      readonly text: string;
      readonly command: string;
      readonly args: readonly string[];
    };

export type ParsedCheck =
  | { readonly ok: true; readonly check: CheckSpec }
  | { readonly ok: false; readonly problem: string };

/** The forms of a check, as help texts name them. */
export const CHECK_SCHEMES = ['tcp://', 'http(s)://', 'https+insecure://', 'file:///', 'exec:'];

export const CHECK_FORMS =
  'tcp://host:port, http(s)://host[:port]/path, https+insecure://host[:port]/path, file:///absolute/path or exec:command args';

/** The scheme of an HTTPS check whose certificate is not verified. */
export const INSECURE_HTTPS = 'https+insecure:';

/** Whether a dependency-list entry is an endpoint check rather than a container name. */
export function isCheckEntry(entry: string): boolean {
  return entry.includes('://') || entry.startsWith('exec:');
}

/** Parses one check; never throws. */
export function parseCheck(text: string): ParsedCheck {
  const trimmed = text.trim();
  if (trimmed.startsWith('exec:')) return parseExec(trimmed);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, problem: `is not a check: use ${CHECK_FORMS}` };
  }
  if (url.protocol === 'tcp:') return parseTcp(trimmed, url);
  if (url.protocol === 'http:' || url.protocol === 'https:')
    return {
      ok: true,
      check: { kind: 'http', text: trimmed, url: url.href, insecure: false, headers: [] },
    };
  if (url.protocol === INSECURE_HTTPS) return parseInsecureHttps(trimmed);
  if (url.protocol === 'file:') return parseFile(trimmed, url);
  return {
    ok: false,
    problem: `uses the unsupported scheme "${url.protocol}": use ${CHECK_FORMS}`,
  };
}

/** https+insecure://…: parsed as the https:// URL it stands for (a special scheme's rules). */
function parseInsecureHttps(text: string): ParsedCheck {
  let url: URL;
  try {
    url = new URL(`https:${text.slice(INSECURE_HTTPS.length)}`);
  } catch {
    return { ok: false, problem: 'needs a host, as https+insecure://localhost:8443/ready' };
  }
  return { ok: true, check: { kind: 'http', text, url: url.href, insecure: true, headers: [] } };
}

/**
 * Request headers, one `Name: value` per line (as curl -H and a probe's httpHeaders give them);
 * never throws.
 */
export function parseHeaders(
  text: string,
): { ok: true; headers: Array<[string, string]> } | { ok: false; problem: string } {
  const headers: Array<[string, string]> = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    // RFC 9110 token characters: anything else is refused by Node's client anyway, less clearly.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return {
        ok: false,
        problem: `has a line that is not "Name: value": ${JSON.stringify(line)}`,
      };
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value))
      return { ok: false, problem: `has a control character in the value of ${name}` };
    headers.push([name, value]);
  }
  return { ok: true, headers };
}

function parseTcp(text: string, url: URL): ParsedCheck {
  const port = Number(url.port);
  if (url.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, problem: 'needs a host and a port, as tcp://localhost:9000' };
  }
  if (url.pathname !== '' && url.pathname !== '/')
    return { ok: false, problem: 'must be only tcp://host:port, without a path' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { ok: true, check: { kind: 'tcp', text, host, port } };
}

function parseFile(text: string, url: URL): ParsedCheck {
  if (url.host !== '')
    return { ok: false, problem: 'must be file:///absolute/path (three slashes)' };
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { ok: false, problem: 'has an invalid %-escape in its path: write the path as UTF-8' };
  }
  if (path === '/' || path.endsWith('/'))
    return { ok: false, problem: 'must name a file, not a directory' };
  return { ok: true, check: { kind: 'file', text, path } };
}

function parseExec(text: string): ParsedCheck {
  const rest = text.slice('exec:'.length).trim();
  const words = rest.startsWith('[')
    ? parseJsonWords(rest)
    : rest.split(/\s+/).filter((w) => w !== '');
  const [command, ...args] = words ?? [];
  if (words === undefined)
    return { ok: false, problem: 'has an invalid JSON array: use exec:["cmd","arg"]' };
  if (command === undefined || command === '')
    return { ok: false, problem: 'names no command: use exec:command args' };
  return { ok: true, check: { kind: 'exec', text, command, args } };
}

function parseJsonWords(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((w) => typeof w === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The check as shown in logs and messages: URLs without credentials. */
export function describeCheck(check: CheckSpec): string {
  return redactSecrets(check.kind === 'http' && !check.insecure ? check.url : check.text);
}

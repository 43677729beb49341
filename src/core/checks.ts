/**
 * Readiness checks: what "ready" means for this container, or for an endpoint a birth dependency
 * names. Parsed here, executed by the prober adapter.
 *
 *   tcp://host:port         a TCP connection is accepted
 *   http://… / https://…    a GET answers 2xx (redirects followed)
 *   file:///path            the file exists and is not empty (symlinks followed: projected volumes use them)
 *   exec:cmd arg…           the command exits 0 (no shell; arguments split on spaces,
 *                           or a JSON array: exec:["cmd","an arg"])
 */
import { redactSecrets } from './redact.ts';

export type CheckSpec =
  | { readonly kind: 'tcp'; readonly text: string; readonly host: string; readonly port: number }
  | { readonly kind: 'http'; readonly text: string; readonly url: string }
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

export const CHECK_FORMS =
  'tcp://host:port, http(s)://host[:port]/path, file:///absolute/path or exec:command args';

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
    return { ok: true, check: { kind: 'http', text: trimmed, url: url.href } };
  if (url.protocol === 'file:') return parseFile(trimmed, url);
  return {
    ok: false,
    problem: `uses the unsupported scheme "${url.protocol}": use ${CHECK_FORMS}`,
  };
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
  return redactSecrets(check.kind === 'http' ? check.url : check.text);
}

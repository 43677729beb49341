import { daysInMonth, utcFields } from './civil-time.ts';

/** Why a container's life ended, recorded as the tombstone's `Reason`. */
export type StopReason =
  /** The child ended by itself (exit code or signal). */
  | 'exited'
  /** The child ended after kubexit forwarded it a stop signal it received (pod deletion). */
  | 'stopped'
  /** The child was stopped because its death dependencies died. */
  | 'death-deps'
  /** The child was never started: death dependencies had already died. */
  | 'death-deps-before-start'
  /** The child was never started: birth dependencies were not ready in time. */
  | 'birth-timeout'
  /** The command could not be started (not found, not executable). */
  | 'spawn-failed'
  /** A terminating signal arrived before the child was started. */
  | 'signal-before-start'
  /** The configuration or the graveyard was unusable. */
  | 'config-error'
  /** kubexit failed unexpectedly. */
  | 'internal-error'
  /**
   * Never written: what a dependent concludes when a tombstone still says alive but the
   * supervisor that holds its liveness socket is gone (killed from outside: OOM kill, SIGKILL).
   */
  | 'lost';

/**
 * One container's record in the graveyard. `Born`, `Died` and `ExitCode` are kubexit's fields;
 * the rest are extra keys that kubexit ignores.
 */
export interface Tombstone {
  /**
   * RFC 3339 time the supervisor started waiting for its birth dependencies: a container that is
   * there but not born yet (`kubexit status` shows it waiting). kubexit ignores the key.
   */
  readonly waiting?: string;
  /** RFC 3339 time the child started. */
  readonly born?: string;
  /** RFC 3339 time its readiness check first passed (the birth time when it has none). */
  readonly ready?: string;
  /** "pending" while a readiness check has not passed yet. */
  readonly readiness?: string;
  /** RFC 3339 time the container's life ended. */
  readonly died?: string;
  /** The supervisor's exit code. */
  readonly exitCode?: number;
  /** Name of the signal that killed the child, when one did. */
  readonly signal?: string;
  readonly reason?: string;
  /**
   * "socket" when the supervisor holds a liveness socket in the graveyard (`.<name>.sock`) for as
   * long as it lives, so dependents learn of its death even when it could not write one.
   */
  readonly liveness?: string;
}

/**
 * Largest tombstone we read; anything bigger is not a tombstone. Ours are under 300 bytes and
 * kubexit's under 100; parsing is bounded by this too (YAML parsing of garbage is costly).
 */
export const MAX_TOMBSTONE_BYTES = 4096;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The fields in the order they are written, with their names in the file. */
const FIELDS: ReadonlyArray<readonly [keyof Tombstone, string]> = [
  ['waiting', 'Waiting'],
  ['born', 'Born'],
  ['ready', 'Ready'],
  ['readiness', 'Readiness'],
  ['died', 'Died'],
  ['exitCode', 'ExitCode'],
  ['signal', 'Signal'],
  ['reason', 'Reason'],
  ['liveness', 'Liveness'],
];

/**
 * Renders a tombstone as kubexit does: Go field names, double-quoted strings, plain integers.
 * Written by hand (the values are times, names and numbers, and JSON's quoting is YAML's double
 * quoting), so that writing a tombstone doesn't load a YAML library into every container.
 */
export function serializeTombstone(tombstone: Tombstone): string {
  let text = '';
  for (const [field, key] of FIELDS) {
    const value = tombstone[field];
    if (value === undefined) continue;
    text += `${key}: ${typeof value === 'number' ? String(value) : JSON.stringify(value)}\n`;
  }
  return text;
}

export type ParsedTombstone =
  | { readonly ok: true; readonly tombstone: Tombstone }
  | { readonly ok: false; readonly problem: string };

/**
 * `Key: "string"` or `Key: integer`: the whole form kubexit and we write. Strings of printable
 * ASCII without `"` or `\\` only; anything else (escapes, other characters) is the YAML parser's.
 */
const SIMPLE_LINE = /^([A-Za-z]+):[ \t]*(?:"([ !#-[\]-~]*)"|(-?\d{1,10}))[ \t]*$/;

/**
 * Parses a tombstone in the simple form kubexit and we write (one `Key: value` per line,
 * values double-quoted or integers) without a YAML library: undefined when the text is in any
 * other form, for the full YAML parser (tombstone-yaml.ts) to read. Keys are case-insensitive;
 * a key given twice is left to the full parser too.
 */
export function parseSimpleTombstone(text: string): ParsedTombstone | undefined {
  if (text.trim() === '') return { ok: false, problem: 'is empty' };
  const fields = new Map<string, unknown>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = SIMPLE_LINE.exec(line.replace(/\r$/, ''));
    if (match === null) return undefined;
    const key = (match[1] as string).toLowerCase();
    if (fields.has(key)) return undefined;
    fields.set(key, match[2] ?? Number(match[3]));
  }
  return readFields(fields);
}

/** Checks the fields of a parsed tombstone (from either parser) into a Tombstone. */
export function readFields(fields: Map<string, unknown>): ParsedTombstone {
  const born = fields.get('born');
  const died = fields.get('died');
  const exitCode = fields.get('exitcode');
  const ready = fields.get('ready');
  if (!isOptionalTime(ready))
    return { ok: false, problem: `has a Ready that is not an RFC 3339 time: ${describe(ready)}` };
  const waiting = fields.get('waiting');
  if (!isOptionalTime(waiting))
    return {
      ok: false,
      problem: `has a Waiting that is not an RFC 3339 time: ${describe(waiting)}`,
    };
  if (!isOptionalTime(born))
    return { ok: false, problem: `has a Born that is not an RFC 3339 time: ${describe(born)}` };
  if (!isOptionalTime(died))
    return { ok: false, problem: `has a Died that is not an RFC 3339 time: ${describe(died)}` };
  if (exitCode !== undefined && exitCode !== null && !Number.isInteger(exitCode)) {
    return { ok: false, problem: `has an ExitCode that is not an integer: ${describe(exitCode)}` };
  }
  return {
    ok: true,
    tombstone: {
      waiting: waiting ?? undefined,
      born: born ?? undefined,
      ready: ready ?? undefined,
      readiness: asShortString(fields.get('readiness')),
      died: died ?? undefined,
      exitCode: (exitCode as number | null | undefined) ?? undefined,
      signal: asShortString(fields.get('signal')),
      reason: asShortString(fields.get('reason')),
      liveness: asShortString(fields.get('liveness')),
    },
  };
}

function isOptionalTime(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || (typeof value === 'string' && isTime(value));
}

/** RFC 3339 in form and in range: month 13 or hour 99 is not a time (Go's parser agrees). */
export function isTime(text: string): boolean {
  const match = RFC3339.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = text.match(/\d+/g)?.map(Number) ?? [];
  const days = daysInMonth(year ?? 0, month ?? 0);
  return (
    (month ?? 0) >= 1 &&
    (month ?? 0) <= 12 &&
    (day ?? 0) >= 1 &&
    (day ?? 0) <= days &&
    (hour ?? 99) <= 23 &&
    (minute ?? 99) <= 59 &&
    (second ?? 99) <= 60
  );
}

function asShortString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 64 ? value : undefined;
}

function describe(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}

/** Formats epoch nanoseconds as RFC 3339 with up to nine fraction digits, as Go's RFC3339Nano. */
export function formatTimestamp(epochNanos: bigint): string {
  const { year, month, day, hour, minute, second } = utcFields(Number(epochNanos / 1_000_000_000n));
  const two = (value: number) => String(value).padStart(2, '0');
  const base = `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}`;
  const fraction = (epochNanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

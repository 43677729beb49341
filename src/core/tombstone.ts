import { parseDocument, stringify } from 'yaml';

/** Why a container's life ended, recorded as the tombstone's `Reason`. */
export type StopReason =
  /** The child ended by itself (exit code or signal). */
  | 'exited'
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

/** Renders a tombstone as kubexit does: Go field names, double-quoted times. */
export function serializeTombstone(tombstone: Tombstone): string {
  const fields: Record<string, string | number> = {};
  if (tombstone.born !== undefined) fields.Born = tombstone.born;
  if (tombstone.ready !== undefined) fields.Ready = tombstone.ready;
  if (tombstone.readiness !== undefined) fields.Readiness = tombstone.readiness;
  if (tombstone.died !== undefined) fields.Died = tombstone.died;
  if (tombstone.exitCode !== undefined) fields.ExitCode = tombstone.exitCode;
  if (tombstone.signal !== undefined) fields.Signal = tombstone.signal;
  if (tombstone.reason !== undefined) fields.Reason = tombstone.reason;
  if (tombstone.liveness !== undefined) fields.Liveness = tombstone.liveness;
  return stringify(fields, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
}

export type ParsedTombstone =
  | { readonly ok: true; readonly tombstone: Tombstone }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses a tombstone written by kubexit or by us. Keys are case-insensitive and unknown keys are
 * ignored, as kubexit does. The text comes from another container: anything malformed yields a
 * problem description, never an exception.
 */
export function parseTombstone(text: string): ParsedTombstone {
  if (text.trim() === '') return { ok: false, problem: 'is empty' };
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: false });
  if (doc.errors.length > 0)
    return { ok: false, problem: `is not valid YAML (${firstLine(doc.errors[0]?.message)})` };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    return { ok: false, problem: `is not valid YAML (${firstLine(String(error))})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: 'is not a YAML mapping of Born, Died and ExitCode' };
  }
  return readFields(lowerCaseKeys(value as Record<string, unknown>));
}

function readFields(fields: Map<string, unknown>): ParsedTombstone {
  const born = fields.get('born');
  const died = fields.get('died');
  const exitCode = fields.get('exitcode');
  const ready = fields.get('ready');
  if (!isOptionalTime(ready))
    return { ok: false, problem: `has a Ready that is not an RFC 3339 time: ${describe(ready)}` };
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

function lowerCaseKeys(record: Record<string, unknown>): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const [key, value] of Object.entries(record)) map.set(String(key).toLowerCase(), value);
  return map;
}

function isOptionalTime(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || (typeof value === 'string' && isTime(value));
}

/** RFC 3339 in form and in range: month 13 or hour 99 is not a time (Go's parser agrees). */
export function isTime(text: string): boolean {
  const match = RFC3339.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = text.match(/\d+/g)?.map(Number) ?? [];
  const days = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
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

function firstLine(message: string | undefined): string {
  return (message ?? 'unknown error').split('\n')[0]?.slice(0, 120) ?? '';
}

/** Formats epoch nanoseconds as RFC 3339 with up to nine fraction digits, as Go's RFC3339Nano. */
export function formatTimestamp(epochNanos: bigint): string {
  const millis = epochNanos / 1_000_000n;
  const base = new Date(Number(millis)).toISOString().slice(0, 19);
  const fraction = (epochNanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

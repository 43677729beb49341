import { readdir } from 'node:fs/promises';
import { FsGraveyard } from '../adapters/fs-graveyard.ts';
import { SocketLiveness } from '../adapters/socket-liveness.ts';
import { SupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';
import { isSafeName } from '../core/model/names.ts';
import type { Tombstone } from '../core/model/tombstone.ts';
import { hasLivenessSocket, stateOf } from '../core/model/tombstone-state.ts';

export interface StatusOptions {
  readonly graveyard: string;
  readonly json: boolean;
  readonly now: Date;
  readonly write: (text: string) => void;
}

/** One graveyard entry as `kubexit status` reports it. */
export interface StatusRow {
  readonly name: string;
  readonly state: 'starting' | 'ready' | 'dead' | 'lost' | 'waiting' | 'invalid';
  readonly waiting?: string;
  readonly born?: string;
  readonly ready?: string;
  readonly died?: string;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly reason?: string;
  readonly problem?: string;
}

/**
 * Every tombstone in the graveyard, for `kubectl exec … kubexit status` debugging: a table, or
 * JSON. Entries are read with the same untrusted-input rules as the supervisor's own reads.
 */
export async function status(options: StatusOptions): Promise<number> {
  const names = await readdir(options.graveyard).catch((error: NodeJS.ErrnoException) => {
    throw new SupervisorError(
      `could not read the graveyard ${options.graveyard} (${error.code}): pass --graveyard or set KUBEXIT_GRAVEYARD`,
      EXIT_CODES.config,
    );
  });
  const graveyard = new FsGraveyard(options.graveyard);
  const liveness = new SocketLiveness(options.graveyard);
  const rows: StatusRow[] = [];
  for (const name of names.filter(isSafeName).sort()) {
    const read = await graveyard.read(name);
    const lost =
      read.kind === 'ok' && hasLivenessSocket(read.tombstone) && !(await liveness.isHeld(name));
    if (read.kind === 'ok') rows.push(rowOf(name, read.tombstone, lost));
    else if (read.kind === 'invalid') rows.push({ name, state: 'invalid', problem: read.problem });
  }
  options.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows, options.now));
  return 0;
}

/** `lost`: the tombstone says alive, but nobody holds its liveness socket any more. */
function rowOf(name: string, tombstone: Tombstone, lost: boolean): StatusRow {
  const state = stateOf(tombstone);
  const shown = lost ? 'lost' : state === 'absent' ? 'invalid' : state;
  return { name, state: shown, ...tombstone };
}

function table(rows: readonly StatusRow[], now: Date): string {
  if (rows.length === 0) return 'no tombstones\n';
  const header = ['NAME', 'STATE', 'BORN', 'READY', 'DIED', 'EXIT', 'REASON', 'AGE'];
  const lines = rows.map((row) =>
    [
      row.name,
      row.state,
      clock(row.born),
      clock(row.ready),
      clock(row.died),
      row.exitCode === undefined ? '' : `${row.exitCode}${row.signal ? ` (${row.signal})` : ''}`,
      row.reason ?? shorten(row.problem ?? ''),
      age(row.died ?? row.born ?? row.waiting, now),
    ].map(printable),
  );
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)),
  );
  const rendered = [header, ...lines].map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `${rendered.join('\n')}\n`;
}

/** HH:MM:SS in UTC: the date is nearly always today's, and the column stays narrow. */
function clock(time: string | undefined): string {
  if (time === undefined) return '';
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? `?${time}` : date.toISOString().slice(11, 19);
}

/** Time since the last change, as kubectl prints ages: 45s, 3m20s, 5h10m, 3d4h, 2y3d. */
function age(time: string | undefined, now: Date): string {
  if (time === undefined) return '';
  const then = new Date(time).getTime();
  if (Number.isNaN(then)) return '?';
  return humanAge(Math.max(0, Math.round((now.getTime() - then) / 1000)));
}

/** kubectl's rounding (k8s.io/apimachinery duration.HumanDuration): two units at most. */
export function humanAge(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600);
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 730) return `${days}d`;
  if (days < 2920) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/**
 * Tombstones are written by other containers: a control character in one (an escape sequence
 * that rewrites the terminal) is shown escaped, never sent to the terminal.
 */
function printable(text: string): string {
  let shown = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    shown += control ? `\\x${code.toString(16).padStart(2, '0')}` : char;
  }
  return shown;
}

/** Long problem descriptions (YAML errors) would stretch the table: the JSON output has them whole. */
function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/*
 * Go duration syntax ("300ms", "1m30s", "1.5h", "+5s", "-1s", "0"), plus plain seconds ("30").
 *
 * Written by hand on purpose: kubexit's manifests use Go's time.ParseDuration, and the duration
 * libraries on npm accept looser or different forms ("1 hour", "1d", "1y", bare numbers as
 * milliseconds), which would silently change the meaning of an existing manifest. This accepts
 * exactly Go's grammar, sign included, and rejects everything else; what a negative value means
 * is the option's business (config.ts).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
/** Go accepts a bare zero, with or without a sign, and no other number without a unit. */
const GO_ZERO = /^[+-]?0$/;
/** Go refuses durations past about 292 years (int64 nanoseconds). */
const GO_MAX_MS = 9_223_372_036_854.775;
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const PLAIN_SECONDS = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Milliseconds for a duration (negative when it says so), or undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  const simple = parseSimpleDuration(value);
  if (simple !== undefined) return simple;
  if (GO_ZERO.test(value)) return 0;
  if (PLAIN_SECONDS.test(value)) return Number(value) * 1000;
  if (!GO_DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(TERM)) {
    total += Number(amount) * (UNIT_MS[unit as string] ?? Number.NaN);
  }
  if (!Number.isFinite(total) || total > GO_MAX_MS) return undefined;
  return value.startsWith('-') ? -total : total;
}

/** Whole milliseconds, seconds, minutes or hours: the form almost every configuration uses. */
const SIMPLE_UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * `<digits><unit>` without a regular expression (why: docs/design.md, "Durations"). Up to six
 * digits (999999h is far below Go's limit); anything else is left to the full grammar.
 */
function parseSimpleDuration(value: string): number | undefined {
  let digits = 0;
  while (digits < value.length && isDigit(value.charCodeAt(digits))) digits += 1;
  if (digits === 0 || digits > 6) return undefined;
  const unit = SIMPLE_UNIT_MS[value.slice(digits)];
  return unit === undefined ? undefined : Number(value.slice(0, digits)) * unit;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Renders milliseconds the way Go prints durations, for messages: 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${trimNumber(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const parts = [hours ? `${hours}h` : '', hours || minutes ? `${minutes}m` : ''];
  return `${parts.join('')}${trimNumber(seconds)}s`;
}

function trimNumber(value: number): string {
  return String(Number(value.toFixed(3)));
}

/**
 * Signal names and numbers on Linux (amd64 and arm64 share the generic numbering). kubexit only
 * runs on Linux, so the table is fixed rather than read from the host at run time; that keeps
 * the core free of Node globals and makes 128+N independent of where the tests run.
 */
const LINUX_SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** A canonical signal name such as `SIGTERM`. */
export type SignalName = string;

/** Signals the supervisor relays to its child's process group. SIGCHLD is never relayed. */
export const FORWARDED_SIGNALS: readonly SignalName[] = [
  // The terminating ones first, SIGTERM before all: handlers are installed in this order, so
  // the stop signal a container runtime sends is the first one caught.
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGALRM',
];

/**
 * The signals runtimes stop containers with (the kubelet's and `docker stop`'s SIGTERM, an image's
 * STOPSIGNAL such as SIGQUIT or SIGINT): forwarded, they end the whole group within the grace
 * period. Not SIGHUP: to many servers it means "reload".
 */
export const STOPPING_SIGNALS: ReadonlySet<SignalName> = new Set(['SIGINT', 'SIGQUIT', 'SIGTERM']);

/**
 * Signals that, received before the child has started, end the supervisor without starting it.
 * They are the ones a kubelet, a runtime or a terminal sends to ask a container to stop. The
 * native front holds the same ones at most a bounded time while Node starts (native/front.c).
 */
export const TERMINATING_SIGNALS: ReadonlySet<SignalName> = new Set([
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
]);

/** Number of a signal by canonical name, or undefined when it is not a Linux signal. */
export function signalNumber(name: SignalName): number | undefined {
  return LINUX_SIGNALS[name];
}

/** Accepts `SIGTERM`, `TERM`, `term` or `15`; returns the canonical name or undefined. */
export function parseSignal(text: string): SignalName | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    return Object.keys(LINUX_SIGNALS).find((name) => LINUX_SIGNALS[name] === number);
  }
  const upper = trimmed.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in LINUX_SIGNALS ? name : undefined;
}

/*
 * What the core needs from the outside world. Real implementations live in src/adapters; unit
 * tests pass one-screen fakes. Nothing here touches fs, child processes or the global process.
 */
import type { CheckSpec } from './model/checks.ts';
import type { ChildResult } from './model/child-exit.ts';
import type { SignalName } from './model/signals.ts';
import type { Tombstone } from './model/tombstone.ts';

export type ReadResult =
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly problem: string }
  | { readonly kind: 'ok'; readonly tombstone: Tombstone };

/** The shared directory of tombstones. */
export interface Graveyard {
  /** Where it is, for messages. */
  readonly dir: string;
  /**
   * Creates it if missing and proves it writable and that `<dir>/<name>` can be replaced;
   * throws GraveyardError otherwise.
   */
  prepare(name: string): Promise<void>;
  /** Replaces `<dir>/<name>` atomically; throws on failure. */
  write(name: string, tombstone: Tombstone): Promise<void>;
  /**
   * Writes the final record: retried on transient errors, and on a full volume written into the
   * space `prepare` set aside. Throws only when it truly could not be written.
   */
  writeFinal(name: string, tombstone: Tombstone): Promise<void>;
  /** Reads `<dir>/<name>` as untrusted input; never throws. */
  read(name: string): Promise<ReadResult>;
  /** The names of the entries there now that could be tombstones; never throws ([] then). */
  names(): Promise<string[]>;
}

/**
 * Liveness sockets: how a dependent learns that a supervisor is gone even when it could write no
 * tombstone (an OOM kill or SIGKILL of the whole container). The supervisor holds a socket in the
 * graveyard for as long as its process lives; the kernel closes it when the process dies, however
 * it dies, and dependents connected to it see the connection end at once.
 */
export interface Liveness {
  /** Starts holding this container's socket; false when the graveyard can't hold one. */
  hold(name: string): Promise<boolean>;
  /** Whether somebody holds `name`'s socket now; true when it can't be told. */
  isHeld(name: string): Promise<boolean>;
  /** Whether somebody surely holds `name`'s socket now: a connection to it was accepted. */
  isSurelyHeld(name: string): Promise<boolean>;
  /**
   * Calls `onGone` once nobody holds `name`'s socket: at once when nobody does now, or when the
   * holder dies later. Returns a function that stops following.
   */
  follow(name: string, onGone: () => void): () => void;
}

/** Notifies changes in the graveyard. */
export interface Watcher {
  /**
   * Starts watching and resolves once no later change can be missed. `onChange(name)` reports an
   * entry that changed; `onChange(undefined)` asks for everything to be re-read.
   */
  start(onChange: (name: string | undefined) => void): Promise<void>;
  close(): Promise<void>;
}

/** A started child process. */
export interface Child {
  readonly pid: number;
  /** Settles once, when the child has exited. Never rejects. */
  readonly exited: Promise<ChildResult>;
  /** Sends a signal to the child's whole process group; a group already gone is not an error. */
  signalGroup(signal: SignalName): void;
  /** Whether any process of the child's group is still there (the leader may have exited). */
  groupAlive(): boolean;
}

export type LaunchResult =
  | { readonly ok: true; readonly child: Child }
  | { readonly ok: false; readonly errorCode: string; readonly message: string };

export interface Launcher {
  /** Starts the command in its own process group, without a shell. */
  launch(command: string, args: readonly string[]): Promise<LaunchResult>;
}

/** Signals received by the supervisor. */
export interface SignalSource {
  /** Calls `handler` once per signal received; returns a function that stops listening. */
  subscribe(handler: (signal: SignalName) => void): () => void;
  /**
   * Resolves once every signal already sent to this process has reached the handler: Node
   * delivers signals in its event loop, and start-up may otherwise never give it a turn.
   */
  settle(): Promise<void>;
}

export interface Clock {
  /** The current time as RFC 3339 with nanoseconds. */
  now(): string;
  /** Runs `callback` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, callback: () => void): () => void;
}

export type LogFields = Readonly<
  Record<string, string | number | boolean | readonly string[] | undefined>
>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The outcome of one attempt of a check or a call: passed or not, and a short reason for logs. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Runs readiness checks. */
export interface Prober {
  /** One attempt, bounded by `timeoutMs`; never throws. */
  probe(check: CheckSpec, timeoutMs: number): Promise<ProbeResult>;
}

/**
 * The kubelet's termination message file: why this container ended, where `kubectl describe pod`
 * and `.status.containerStatuses[].state.terminated.message` show it.
 */
export interface TerminationLog {
  /** Writes the message where the kubelet reads it, if it may; never throws. */
  write(message: string): void;
}

/** Calls shutdown endpoints. */
export interface HttpPoster {
  /** One POST, bounded by `timeoutMs`; ok when it answers 2xx; never throws. */
  post(url: string, timeoutMs: number): Promise<ProbeResult>;
}

/** What the pod's spec says that kubexit uses: its restart policy and its containers' names. */
export interface PodFacts {
  readonly restartPolicy: string | undefined;
  /** Every container of the pod: regular, init (native sidecars included) and ephemeral. */
  readonly containers: readonly string[];
}

/** The pod's container readiness as the Kubernetes API reports it (kubexit's API mode). */
export interface PodReadiness {
  /**
   * Starts following the pod; `onChange` receives the names of the containers that are ready and
   * what the pod's spec says, or undefined when the API can't be used after all (no permission),
   * to fall back to tombstones.
   */
  start(onChange: (ready: ReadonlySet<string> | undefined, facts?: PodFacts) => void): void;
  close(): void;
}

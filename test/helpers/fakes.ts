/* One-screen fakes of the core's ports: no timers, no processes, no files. */

import type { Heap } from '../../src/adapters/heap-compaction.ts';
import type { CheckSpec } from '../../src/core/model/checks.ts';
import type { ChildResult } from '../../src/core/model/child-exit.ts';
import type { Tombstone } from '../../src/core/model/tombstone.ts';
import type {
  Child,
  Clock,
  Graveyard,
  HttpPoster,
  Launcher,
  LaunchResult,
  Liveness,
  LogFields,
  Logger,
  PodFacts,
  PodReadiness,
  ProbeResult,
  Prober,
  ReadResult,
  SignalSource,
  Watcher,
} from '../../src/core/ports.ts';

export class FakeGraveyard implements Graveyard {
  readonly dir = '/graveyard';
  readonly entries = new Map<string, ReadResult>();
  readonly writes: Array<{ name: string; tombstone: Tombstone }> = [];
  prepareError: Error | undefined;
  finalError: Error | undefined;

  async prepare(): Promise<void> {
    if (this.prepareError) throw this.prepareError;
  }
  async write(name: string, tombstone: Tombstone): Promise<void> {
    this.writes.push({ name, tombstone });
    this.entries.set(name, { kind: 'ok', tombstone });
  }
  async writeFinal(name: string, tombstone: Tombstone): Promise<void> {
    if (this.finalError) throw this.finalError;
    await this.write(name, tombstone);
  }
  async read(name: string): Promise<ReadResult> {
    return this.entries.get(name) ?? { kind: 'absent' };
  }
  async names(): Promise<string[]> {
    return [...this.entries.keys()];
  }
  put(name: string, tombstone: Tombstone): void {
    this.entries.set(name, { kind: 'ok', tombstone });
  }
  last(): Tombstone | undefined {
    return this.writes.at(-1)?.tombstone;
  }
}

export class FakeWatcher implements Watcher {
  #onChange: ((name: string | undefined) => void) | undefined;
  started = false;
  closed = false;
  async start(onChange: (name: string | undefined) => void): Promise<void> {
    this.#onChange = onChange;
    this.started = true;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  emit(name: string | undefined): void {
    this.#onChange?.(name);
  }
}

export class FakeChild implements Child {
  readonly pid = 4242;
  readonly signals: string[] = [];
  readonly exited: Promise<ChildResult>;
  exit: (result: ChildResult) => void = () => {};
  constructor() {
    this.exited = new Promise((resolve) => {
      this.exit = resolve;
    });
  }
  /** Whether members of the group outlive the leader (one ignoring the stop signal). */
  groupMembersLeft = false;
  signalGroup(signal: string): void {
    this.signals.push(signal);
    if (signal === 'SIGKILL') this.groupMembersLeft = false;
  }
  groupAlive(): boolean {
    return this.groupMembersLeft;
  }
}

/** Liveness sockets: `hold` succeeds; `lose(name)` plays the holder of name dying. */
export class FakeLiveness implements Liveness {
  readonly held: string[] = [];
  readonly #followers = new Map<string, Array<() => void>>();
  readonly gone = new Set<string>();
  async hold(name: string): Promise<boolean> {
    this.held.push(name);
    return true;
  }
  async isHeld(name: string): Promise<boolean> {
    return !this.gone.has(name);
  }
  /** Names another live supervisor holds (two containers given one name). */
  readonly heldByOthers = new Set<string>();
  async isSurelyHeld(name: string): Promise<boolean> {
    return this.heldByOthers.has(name);
  }
  follow(name: string, onGone: () => void): () => void {
    if (this.gone.has(name)) {
      queueMicrotask(onGone);
      return () => {};
    }
    const list = this.#followers.get(name) ?? [];
    list.push(onGone);
    this.#followers.set(name, list);
    return () => {
      this.#followers.set(
        name,
        (this.#followers.get(name) ?? []).filter((f) => f !== onGone),
      );
    };
  }
  lose(name: string): void {
    this.gone.add(name);
    for (const onGone of this.#followers.get(name)?.splice(0) ?? []) onGone();
  }
  following(name: string): number {
    return this.#followers.get(name)?.length ?? 0;
  }
}

export class FakeLauncher implements Launcher {
  readonly child = new FakeChild();
  launches: Array<{ command: string; args: readonly string[] }> = [];
  failWith: string | undefined;
  async launch(command: string, args: readonly string[]): Promise<LaunchResult> {
    this.launches.push({ command, args });
    if (this.failWith)
      return { ok: false, errorCode: this.failWith, message: `spawn ${command} ${this.failWith}` };
    return { ok: true, child: this.child };
  }
}

export class FakeSignals implements SignalSource {
  #handler: ((signal: string) => void) | undefined;
  subscribe(handler: (signal: string) => void): () => void {
    this.#handler = handler;
    return () => {
      this.#handler = undefined;
    };
  }
  emit(signal: string): void {
    this.#handler?.(signal);
  }
  settle(): Promise<void> {
    return Promise.resolve();
  }
}

/** Counts compactions; `unavailable` plays a runtime without an exposed collector. */
export class FakeHeap implements Heap {
  compactions = 0;
  unavailable = false;
  compact(): number | undefined {
    if (this.unavailable) return undefined;
    this.compactions++;
    return 2.5;
  }
}

/** Time moves only when the test calls advance(). */
export class FakeClock implements Clock {
  #now = 0;
  #timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];
  now(): string {
    return new Date(Date.UTC(2026, 0, 1) + this.#now).toISOString();
  }
  setTimer(ms: number, callback: () => void): () => void {
    const timer = { at: this.#now + ms, callback, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
  advance(ms: number): void {
    this.#now += ms;
    for (const timer of this.#timers.filter((t) => !t.cancelled && t.at <= this.#now)) {
      timer.cancelled = true;
      timer.callback();
    }
  }
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}

export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', message, fields });
  }
  messages(level?: string): string[] {
    return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.message);
  }
}

/** Lets pending promise callbacks run (the fakes resolve on the microtask queue). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Answers checks from a table the test changes; records every attempt. */
export class FakeProber implements Prober {
  readonly results = new Map<string, ProbeResult>();
  readonly attempts: string[] = [];
  async probe(check: CheckSpec): Promise<ProbeResult> {
    this.attempts.push(check.text);
    return this.results.get(check.text) ?? { ok: false, detail: 'ECONNREFUSED' };
  }
}

export class FakePoster implements HttpPoster {
  readonly calls: string[] = [];
  answer: (url: string) => ProbeResult | Promise<ProbeResult> = () => ({
    ok: true,
    detail: 'HTTP 200',
  });
  async post(url: string): Promise<ProbeResult> {
    this.calls.push(url);
    return this.answer(url);
  }
}

export class FakePodReadiness implements PodReadiness {
  #onChange: ((ready: ReadonlySet<string> | undefined, facts?: PodFacts) => void) | undefined;
  closed = false;
  /** What the pod's spec says, sent with every report; none by default. */
  facts: PodFacts | undefined;
  start(onChange: (ready: ReadonlySet<string> | undefined, facts?: PodFacts) => void): void {
    this.#onChange = onChange;
  }
  /** The API refused (RBAC): API mode ends. */
  giveUp(): void {
    this.#onChange?.(undefined);
  }
  close(): void {
    this.closed = true;
  }
  report(...names: string[]): void {
    this.#onChange?.(new Set(names), this.facts);
  }
}

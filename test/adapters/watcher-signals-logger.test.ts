import { EventEmitter } from 'node:events';
import { type FSWatcher, lstatSync, renameSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DepPoller, type StatFunction } from '../../src/adapters/dep-poller.ts';
import { GraveyardWatcher, type WatchFactory } from '../../src/adapters/graveyard-watcher.ts';
import { ProcessSignals } from '../../src/adapters/process-signals.ts';
import { StreamLogger } from '../../src/adapters/stream-logger.ts';
import { MemoryLogger } from '../helpers/fakes.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * An auto-mode watcher whose first inotify watch fails: refused at once (`throws`), as Node does
 * when no inotify instance or watch is left, or reporting `error` right after it started.
 */
function watcherFailingFirst(t: Test, error: Error, how: 'throws' | 'emits' = 'emits') {
  let calls = 0;
  const factory: WatchFactory = (dir, listener) => {
    calls += 1;
    if (calls === 1 && how === 'throws') throw error;
    const real: FSWatcher = watch(dir, { encoding: 'utf8' }, listener);
    if (calls === 1) setImmediate(() => real.emit('error', error));
    return real;
  };
  const dir = t.testdir();
  const logger = new MemoryLogger();
  const watcher = new GraveyardWatcher(dir, {
    mode: 'auto',
    pollIntervalMs: 50,
    names: ['main'],
    logger,
    watchFactory: factory,
  });
  t.teardown(() => watcher.close());
  return { dir, logger, watcher };
}

for (const mode of ['auto', 'poll'] as const) {
  t.test(`${mode} mode reports tombstones renamed into place, not temporary files`, async (t) => {
    const dir = t.testdir();
    const seen: Array<string | undefined> = [];
    const watcher = new GraveyardWatcher(dir, {
      mode,
      pollIntervalMs: 50,
      names: ['main'],
      logger: new MemoryLogger(),
    });
    t.teardown(() => watcher.close());
    await watcher.start((name) => seen.push(name));
    writeFileSync(join(dir, '.kubexit-tmp'), 'Born: "2026-01-01T00:00:00Z"\n');
    renameSync(join(dir, '.kubexit-tmp'), join(dir, 'main'));
    await waitFor(() => seen.includes('main'), 'the add event');
    writeFileSync(join(dir, '.kubexit-tmp2'), 'Died: "2026-01-01T00:00:00Z"\n');
    const count = seen.length;
    renameSync(join(dir, '.kubexit-tmp2'), join(dir, 'main'));
    await waitFor(() => seen.length > count, 'the change event');
    t.notOk(
      seen.some((name) => name?.startsWith('.')),
      'dot files are never reported',
    );
    t.equal(watcher.polling, mode === 'poll');
  });
}

t.test('polling looks only at the declared dependencies, however full the graveyard', async (t) => {
  const dir = t.testdir();
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, `other-${i}`), 'x');
  const looked = new Set<string>();
  const stat: StatFunction = (path) => {
    looked.add(path);
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  };
  const poller = new DepPoller(dir, ['main', 'queue'], 20, stat);
  const seen: string[] = [];
  await poller.start((name) => seen.push(name));
  t.teardown(() => poller.stop());
  writeFileSync(join(dir, 'other-1'), 'changed');
  writeFileSync(join(dir, 'queue'), 'Born: "2026-01-01T00:00:00Z"\n');
  await waitFor(() => seen.includes('queue'), 'the dependency change');
  t.same([...new Set(seen)], ['queue'], 'other entries are never reported');
  t.same([...looked].sort(), [join(dir, 'main'), join(dir, 'queue')], 'nothing else is looked at');
});

for (const how of ['throws', 'emits'] as const) {
  t.test(
    `falls back to polling when inotify is exhausted (the watch ${how}), and asks for a full re-read`,
    async (t) => {
      const error = Object.assign(new Error('watch ENOSPC'), { code: 'ENOSPC' });
      const { dir, logger, watcher } = watcherFailingFirst(t, error, how);
      const seen: Array<string | undefined> = [];
      await watcher.start((name) => seen.push(name));
      await waitFor(() => watcher.polling && seen.includes(undefined), 'the switch to polling');
      t.match(logger.messages('warn'), [
        /inotify is unavailable \(ENOSPC\); polling the dependencies' tombstones every 50ms/,
      ]);
      writeFileSync(join(dir, 'main'), 'Born: "2026-01-01T00:00:00Z"\n');
      await waitFor(() => seen.includes('main'), 'an event from the polling watcher');
    },
  );
}

t.test('other watcher errors are logged, not fatal, and ask for a full re-read', async (t) => {
  const { logger, watcher } = watcherFailingFirst(t, new Error('something odd'));
  const seen: Array<string | undefined> = [];
  await watcher.start((name) => seen.push(name));
  await waitFor(() => logger.messages('warn').length > 0, 'the warning');
  t.match(logger.messages('warn'), [/graveyard watcher error: something odd; re-reading/]);
  t.ok(seen.includes(undefined), 'a full re-read was asked for');
  t.equal(watcher.polling, false);
});

t.test(
  'process signals are delivered once each, in order, including those before subscribing',
  async (t) => {
    const emitter = new EventEmitter();
    const received: string[] = [];
    const signals = new ProcessSignals(emitter, ['SIGUSR2', 'SIGHUP']);
    emitter.emit('SIGHUP');
    emitter.emit('SIGUSR2');
    const unsubscribe = signals.subscribe((s) => received.push(s));
    t.same(received, ['SIGHUP', 'SIGUSR2'], 'early signals are replayed');
    emitter.emit('SIGUSR2');
    emitter.emit('SIGUSR2');
    unsubscribe();
    signals.dispose();
    emitter.emit('SIGHUP');
    t.same(received, ['SIGHUP', 'SIGUSR2', 'SIGUSR2', 'SIGUSR2']);
    t.equal(emitter.listenerCount('SIGHUP'), 0);
  },
);

t.test('a real signal sent to this process reaches the subscriber', async (t) => {
  const received: string[] = [];
  const signals = new ProcessSignals(process, ['SIGUSR2']);
  signals.subscribe((s) => received.push(s));
  t.teardown(() => signals.dispose());
  process.kill(process.pid, 'SIGUSR2');
  await waitFor(() => received.length === 1, 'the signal');
  t.same(received, ['SIGUSR2']);
});

t.test('text logs are prefixed with the container name and filtered by level', async (t) => {
  const lines: string[] = [];
  const logger = new StreamLogger({
    name: 'queue',
    level: 'info',
    format: 'text',
    sink: { write: (l: string) => lines.push(l) },
  });
  logger.debug('hidden');
  logger.info('started');
  logger.warn('careful');
  logger.error('broken');
  t.same(lines, [
    'kubexit[queue]: started\n',
    'kubexit[queue]: warn: careful\n',
    'kubexit[queue]: error: broken\n',
  ]);
});

t.test('json logs are one object per line with fields', async (t) => {
  const lines: string[] = [];
  const logger = new StreamLogger({
    name: 'queue',
    level: 'debug',
    format: 'json',
    sink: { write: (l: string) => lines.push(l) },
    now: () => '2026-01-01T00:00:00Z',
  });
  logger.debug('started', { pid: 7 });
  t.same(JSON.parse(lines[0] ?? ''), {
    time: '2026-01-01T00:00:00Z',
    level: 'debug',
    name: 'queue',
    msg: 'started',
    pid: 7,
  });
});

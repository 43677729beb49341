import t from 'tap';
import { planOf, Supervisor } from '../../src/core/life/supervisor.ts';
import type { Config } from '../../src/core/model/config.ts';
import { GraveyardError } from '../../src/core/model/errors.ts';
import { configOf } from '../helpers/config.ts';
import {
  FakeClock,
  FakeGraveyard,
  FakeLauncher,
  FakeLiveness,
  FakePodReadiness,
  FakePoster,
  FakeProber,
  FakeSignals,
  FakeWatcher,
  MemoryLogger,
  settle,
} from '../helpers/fakes.ts';

const BORN = { born: '2026-01-01T00:00:00Z' };
const DIED_OK = { born: '2026-01-01T00:00:00Z', died: '2026-01-01T00:00:05Z', exitCode: 0 };

function setup(config: Config, { apiMode = false } = {}) {
  const ports = {
    graveyard: new FakeGraveyard(),
    watcher: new FakeWatcher(),
    launcher: new FakeLauncher(),
    signals: new FakeSignals(),
    clock: new FakeClock(),
    logger: new MemoryLogger(),
    prober: new FakeProber(),
    poster: new FakePoster(),
    podReadiness: new FakePodReadiness(),
    liveness: new FakeLiveness(),
  };
  const wired = apiMode ? { ...ports, connectPod: async () => ports.podReadiness } : ports;
  const start = () => new Supervisor(config, wired).run();
  return { ...ports, child: ports.launcher.child, start };
}

t.test(
  'a child that exits reports its own code, in the exit status and the tombstone',
  async (t) => {
    const pod = setup(configOf({}, ['app', '--flag']));
    const running = pod.start();
    await settle();
    t.same(pod.launcher.launches, [{ command: 'app', args: ['--flag'] }]);
    t.match(pod.graveyard.writes[0], { name: 'me', tombstone: { born: String } });
    pod.child.exit({ exitCode: 3 });
    const outcome = await running;
    t.match(outcome, { exitCode: 3, reason: 'exited' });
    t.match(pod.graveyard.last(), { born: String, died: String, exitCode: 3, reason: 'exited' });
    t.equal(pod.watcher.started, false, 'no dependencies, nothing to watch');
  },
);

t.test('a child killed by a signal exits 128+N, never -1 or 255', async (t) => {
  const pod = setup(configOf({}));
  const running = pod.start();
  await settle();
  pod.child.exit({ signal: 'SIGTERM' });
  t.match(await running, { exitCode: 143, signal: 'SIGTERM' });
  t.match(pod.graveyard.last(), { exitCode: 143, signal: 'SIGTERM' });
});

t.test('waits for birth dependencies to be born before starting the child', async (t) => {
  const pod = setup(configOf({ birthDeps: 'queue, proxy' }));
  const running = pod.start();
  await settle();
  t.equal(pod.launcher.launches.length, 0, 'not started while dependencies are missing');
  t.match(pod.logger.messages('info'), [
    'app (as me, graveyard /graveyard) starts when queue, proxy are ready (timeout 30s); ends when it exits',
    /waiting for birth dependencies: queue, proxy \(timeout 30s\)/,
  ]);
  pod.graveyard.put('queue', BORN);
  pod.watcher.emit('queue');
  await settle();
  t.equal(pod.launcher.launches.length, 0, 'one of two is not enough');
  pod.graveyard.put('proxy', BORN);
  pod.watcher.emit('proxy');
  await settle();
  t.equal(pod.launcher.launches.length, 1);
  pod.child.exit({ exitCode: 0 });
  t.match(await running, { exitCode: 0 });
  t.equal(pod.clock.pendingTimers, 0, 'the birth timer is cancelled');
});

t.test('birth dependencies already alive at startup start the child at once', async (t) => {
  const pod = setup(configOf({ birthDeps: 'queue' }));
  pod.graveyard.put('queue', BORN);
  const running = pod.start();
  await settle();
  t.equal(pod.launcher.launches.length, 1);
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test('birth timeout exits 1 naming what is missing, and writes a tombstone', async (t) => {
  const pod = setup(configOf({ birthDeps: 'queue,proxy', birthTimeout: '10s' }));
  pod.graveyard.put('proxy', BORN);
  const running = pod.start();
  await settle();
  pod.clock.advance(10_000);
  const outcome = await running;
  t.match(outcome, {
    exitCode: 1,
    reason: 'birth-timeout',
    message: /not ready after 10s: queue \(no tombstone\)/,
  });
  t.equal(pod.launcher.launches.length, 0);
  t.match(pod.graveyard.last(), { died: String, exitCode: 1, reason: 'birth-timeout' });
  t.notOk(pod.graveyard.last()?.born, 'never born');
  t.ok(pod.watcher.closed);
});

t.test('a death dependency already dead at startup: never started, exit 0', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main' }));
  pod.graveyard.put('main', DIED_OK);
  const outcome = await pod.start();
  t.match(outcome, { exitCode: 0, reason: 'death-deps-before-start' });
  t.equal(pod.launcher.launches.length, 0);
  t.match(pod.graveyard.last(), { exitCode: 0, reason: 'death-deps-before-start' });
});

t.test('a death dependency dying during the birth wait: never started', async (t) => {
  const pod = setup(configOf({ birthDeps: 'queue', deathDeps: 'main' }));
  const running = pod.start();
  await settle();
  pod.graveyard.put('main', { ...DIED_OK, exitCode: 1 });
  pod.watcher.emit('main');
  pod.graveyard.put('queue', BORN);
  pod.watcher.emit('queue');
  t.match(await running, { exitCode: 0, reason: 'death-deps-before-start' });
  t.equal(pod.launcher.launches.length, 0);
});

t.test(
  'a death dependency dying while the child runs: stop signal to the group, exit 0',
  async (t) => {
    const pod = setup(configOf({ deathDeps: 'main' }));
    const running = pod.start();
    await settle();
    pod.graveyard.put('main', BORN);
    pod.watcher.emit('main');
    await settle();
    t.same(pod.child.signals, [], 'alive dependency: nothing sent');
    pod.graveyard.put('main', DIED_OK);
    pod.watcher.emit('main');
    await settle();
    t.same(pod.child.signals, ['SIGTERM']);
    t.match(
      pod.logger.messages('info').join('\n'),
      /death dependency "main" \(exit 0\) died: stopping the child with SIGTERM, SIGKILL in 30s/,
    );
    pod.child.exit({ signal: 'SIGTERM' });
    t.match(await running, { exitCode: 0, reason: 'death-deps', signal: 'SIGTERM' });
    t.match(pod.graveyard.last(), { exitCode: 0, reason: 'death-deps', signal: 'SIGTERM' });
    t.equal(pod.clock.pendingTimers, 0, 'the kill timer is cancelled');
  },
);

t.test('a child that ignores the stop signal is killed after the grace period', async (t) => {
  const pod = setup(
    configOf({ deathDeps: 'main', gracePeriod: '5s', ignoreCodeOnDeathDeps: 'false' }),
  );
  pod.graveyard.put('main', DIED_OK);
  const running = pod.start();
  await settle();
  t.equal(pod.launcher.launches.length, 0, 'already dead: not started');
  t.match(await running, { exitCode: 0 });

  const late = setup(
    configOf({ deathDeps: 'main', gracePeriod: '5s', ignoreCodeOnDeathDeps: 'false' }),
  );
  const lateRun = late.start();
  await settle();
  late.graveyard.put('main', DIED_OK);
  late.watcher.emit('main');
  await settle();
  late.clock.advance(4_999);
  t.same(late.child.signals, ['SIGTERM']);
  late.clock.advance(1);
  t.same(late.child.signals, ['SIGTERM', 'SIGKILL']);
  late.child.exit({ signal: 'SIGKILL' });
  t.match(
    await lateRun,
    { exitCode: 137, reason: 'death-deps' },
    "ignore-code false keeps the child's code",
  );
});

t.test('the stop signal is configurable', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main', stopSignal: 'INT' }));
  const running = pod.start();
  await settle();
  pod.graveyard.put('main', DIED_OK);
  pod.watcher.emit('main');
  await settle();
  t.same(pod.child.signals, ['SIGINT']);
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test('policy all stops only when every death dependency has died', async (t) => {
  const pod = setup(configOf({ deathDeps: 'a,b', deathDepsPolicy: 'all' }));
  const running = pod.start();
  await settle();
  pod.graveyard.put('a', DIED_OK);
  pod.watcher.emit('a');
  await settle();
  t.same(pod.child.signals, []);
  pod.graveyard.put('b', DIED_OK);
  pod.watcher.emit('b');
  await settle();
  t.same(pod.child.signals, ['SIGTERM']);
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test('signals are forwarded to the running child, each one', async (t) => {
  const pod = setup(configOf({}));
  const running = pod.start();
  await settle();
  for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR1', 'SIGWINCH', 'SIGTERM'])
    pod.signals.emit(signal);
  t.same(pod.child.signals, ['SIGHUP', 'SIGUSR1', 'SIGUSR1', 'SIGWINCH', 'SIGTERM']);
  pod.child.exit({ signal: 'SIGTERM' });
  t.match(await running, { exitCode: 143, reason: 'stopped' });
});

t.test(
  'a terminating signal before the child starts ends the wait without starting it',
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'queue' }));
    const running = pod.start();
    await settle();
    pod.signals.emit('SIGUSR1');
    await settle();
    t.match(pod.logger.messages('debug').join('\n'), /SIGUSR1 before the child started: ignored/);
    pod.signals.emit('SIGTERM');
    const outcome = await running;
    t.match(outcome, { exitCode: 143, reason: 'signal-before-start', signal: 'SIGTERM' });
    t.equal(pod.launcher.launches.length, 0);
    t.match(pod.graveyard.last(), { exitCode: 143, reason: 'signal-before-start' });
  },
);

t.test(
  'a SIGTERM that reaches the handler only when start-up lets it (settle) still keeps the child from starting',
  async (t) => {
    const pod = setup(configOf({}));
    // Node hands signals over in its event loop: here, the SIGTERM sent during start-up arrives
    // exactly when the supervisor asks for pending signals, just before it would launch.
    pod.signals.settle = async () => pod.signals.emit('SIGTERM');
    const outcome = await pod.start();
    t.match(outcome, { exitCode: 143, reason: 'signal-before-start', signal: 'SIGTERM' });
    t.equal(pod.launcher.launches.length, 0);
  },
);

t.test('command not found exits 127, not executable 126, both with a tombstone', async (t) => {
  for (const [errorCode, exitCode] of [
    ['ENOENT', 127],
    ['EACCES', 126],
    ['ENOEXEC', 126],
  ] as const) {
    const pod = setup(configOf({}, ['missing-app']));
    pod.launcher.failWith = errorCode;
    const outcome = await pod.start();
    t.match(outcome, { exitCode, reason: 'spawn-failed' }, errorCode);
    t.match(pod.graveyard.last(), { exitCode, reason: 'spawn-failed' });
  }
});

t.test('an unusable graveyard fails before starting the child (exit 2)', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main' }));
  pod.graveyard.prepareError = new GraveyardError('graveyard /graveyard is not writable (EROFS)');
  const outcome = await pod.start();
  t.match(outcome, { exitCode: 2, reason: 'config-error', message: /not writable/ });
  t.equal(pod.launcher.launches.length, 0);
  t.match(
    pod.graveyard.last(),
    { exitCode: 2, reason: 'config-error' },
    'still tries to leave a tombstone',
  );
});

t.test('a broken tombstone is reported once, and a later valid one counts', async (t) => {
  const pod = setup(configOf({ birthDeps: 'queue' }));
  pod.graveyard.entries.set('queue', { kind: 'invalid', problem: 'is not valid YAML' });
  const running = pod.start();
  await settle();
  for (let i = 0; i < 5; i++) pod.watcher.emit('queue');
  await settle();
  t.equal(
    pod.logger.messages('warn').filter((m) => m.includes('ignoring tombstone /graveyard/queue'))
      .length,
    1,
  );
  pod.graveyard.put('queue', BORN);
  pod.watcher.emit('queue');
  await settle();
  t.equal(pod.launcher.launches.length, 1);
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test(
  'a full re-read request (watcher fell back to polling) refreshes every dependency',
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'a,b' }));
    const running = pod.start();
    await settle();
    pod.graveyard.put('a', BORN);
    pod.graveyard.put('b', BORN);
    pod.watcher.emit(undefined);
    await settle();
    t.equal(pod.launcher.launches.length, 1);
    pod.child.exit({ exitCode: 0 });
    await running;
  },
);

t.test('events for other containers are not read', async (t) => {
  const pod = setup(configOf({ birthDeps: 'a' }));
  let reads = 0;
  const read = pod.graveyard.read.bind(pod.graveyard);
  pod.graveyard.read = (name) => {
    reads++;
    return read(name);
  };
  const running = pod.start();
  await settle();
  const before = reads;
  pod.watcher.emit('unrelated');
  await settle();
  t.equal(reads, before);
  pod.graveyard.put('a', BORN);
  pod.watcher.emit('a');
  await settle();
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test(
  'a dead birth dependency is warned about once and waited for until the timeout',
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'queue', birthTimeout: '1s' }));
    pod.graveyard.put('queue', { ...DIED_OK, exitCode: 1 });
    const running = pod.start();
    await settle();
    pod.watcher.emit('queue');
    await settle();
    t.equal(pod.logger.messages('warn').filter((m) => m.includes('"queue" has died')).length, 1);
    pod.clock.advance(1000);
    t.match(await running, { exitCode: 1, message: /queue \(died, exit 1\)/ });
  },
);

t.test('an unexpected failure exits 125 and still leaves a tombstone', async (t) => {
  const pod = setup(configOf({}));
  pod.launcher.launch = async () => {
    throw new Error('spawn machinery broke');
  };
  const outcome = await pod.start();
  t.match(outcome, { exitCode: 125, reason: 'internal-error', message: /spawn machinery broke/ });
  t.match(pod.graveyard.last(), { exitCode: 125, reason: 'internal-error' });
});

t.test(
  'a tombstone that cannot be written is logged, and the exit code stays the truth',
  async (t) => {
    const pod = setup(configOf({}));
    pod.graveyard.write = async () => {
      throw new Error('EROFS: read-only file system');
    };
    pod.graveyard.finalError = new Error('EROFS: read-only file system');
    const running = pod.start();
    await settle();
    pod.child.exit({ exitCode: 4 });
    t.match(await running, { exitCode: 4 });
    t.match(
      pod.logger.messages('error').join('\n'),
      /could not record the birth.*EROFS[\s\S]*could not write the final tombstone.*EROFS.*true code 4/,
    );
  },
);

t.test('without a readiness check, born means ready in the tombstone', async (t) => {
  const pod = setup(configOf({}));
  const running = pod.start();
  await settle();
  t.match(pod.graveyard.writes[0]?.tombstone, { born: String, ready: String });
  t.equal(pod.graveyard.writes[0]?.tombstone.ready, pod.graveyard.writes[0]?.tombstone.born);
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test(
  'a readiness check is polled after the start, and readiness recorded once it passes',
  async (t) => {
    const pod = setup(configOf({ readyCheck: 'tcp://localhost:9000', readyInterval: '1s' }));
    const running = pod.start();
    await settle();
    t.match(pod.graveyard.last(), { born: String, readiness: 'pending' });
    t.notOk(pod.graveyard.last()?.ready);
    t.equal(pod.prober.attempts.length, 1);
    pod.clock.advance(1000);
    await settle();
    t.equal(pod.prober.attempts.length, 2, 'one attempt per interval');
    pod.prober.results.set('tcp://localhost:9000', { ok: true, detail: 'connected' });
    pod.clock.advance(1000);
    await settle();
    t.match(pod.graveyard.last(), { born: String, ready: String });
    t.notOk(pod.graveyard.last()?.readiness, 'no longer pending');
    t.match(
      pod.logger.messages('info').join('\n'),
      /ready: tcp:\/\/localhost:9000 passed \(connected\)/,
    );
    pod.clock.advance(5000);
    await settle();
    t.equal(pod.prober.attempts.length, 3, 'no more attempts once ready');
    pod.child.exit({ exitCode: 0 });
    t.match(await running, { exitCode: 0 });
    t.match(pod.graveyard.last(), { born: String, ready: String, died: String, exitCode: 0 });
  },
);

t.test('a birth dependency that is born but not ready yet is waited for', async (t) => {
  const pod = setup(configOf({ birthDeps: 'minio' }));
  pod.graveyard.put('minio', { born: '2026-01-01T00:00:00Z', readiness: 'pending' });
  const running = pod.start();
  await settle();
  t.equal(pod.launcher.launches.length, 0);
  pod.graveyard.put('minio', { born: '2026-01-01T00:00:00Z', ready: '2026-01-01T00:00:02Z' });
  pod.watcher.emit('minio');
  await settle();
  t.equal(pod.launcher.launches.length, 1);
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test('endpoint birth dependencies are polled until they pass', async (t) => {
  const pod = setup(
    configOf({
      birthDeps: 'tcp://localhost:9000,file:///shared/users.txt',
      readyInterval: '500ms',
    }),
  );
  const running = pod.start();
  await settle();
  t.match(
    pod.logger.messages('info').join('\n'),
    /waiting for birth dependencies: tcp:\/\/localhost:9000, file:\/\/\/shared\/users.txt/,
  );
  pod.prober.results.set('tcp://localhost:9000', { ok: true, detail: 'connected' });
  pod.clock.advance(500);
  await settle();
  t.equal(pod.launcher.launches.length, 0, 'one of two is not enough');
  pod.prober.results.set('file:///shared/users.txt', { ok: true, detail: '12 bytes' });
  pod.clock.advance(500);
  await settle();
  t.equal(pod.launcher.launches.length, 1);
  t.match(
    pod.logger.messages('info').join('\n'),
    /birth dependency file:\/\/\/shared\/users.txt is ready \(12 bytes\)/,
  );
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test(
  'the birth timeout names each endpoint with its last error, and progress is logged meanwhile',
  async (t) => {
    const pod = setup(
      configOf({ birthDeps: 'queue,http://127.0.0.1:15021/healthz/ready', birthTimeout: '25s' }),
    );
    pod.prober.results.set('http://127.0.0.1:15021/healthz/ready', {
      ok: false,
      detail: 'HTTP 503',
    });
    const running = pod.start();
    await settle();
    pod.clock.advance(10_000);
    await settle();
    t.match(
      pod.logger.messages('info').join('\n'),
      /still waiting for: queue \(no tombstone\), http:\/\/127.0.0.1:15021\/healthz\/ready \(HTTP 503\)/,
    );
    pod.clock.advance(15_000);
    t.match(await running, {
      exitCode: 1,
      message:
        /not ready after 25s: queue \(no tombstone\), http:\/\/127.0.0.1:15021\/healthz\/ready \(HTTP 503\)/,
    });
    const attempts = pod.prober.attempts.length;
    pod.clock.advance(10_000);
    await settle();
    t.equal(pod.prober.attempts.length, attempts, 'polling stops with the wait');
  },
);

t.test(
  'API mode: a container the pod status reports ready satisfies the birth dependency',
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'istio-proxy' }), { apiMode: true });
    const running = pod.start();
    await settle();
    t.equal(pod.launcher.launches.length, 0);
    pod.podReadiness.report('other');
    await settle();
    t.equal(pod.launcher.launches.length, 0);
    pod.podReadiness.report('other', 'istio-proxy');
    await settle();
    t.equal(pod.launcher.launches.length, 1, 'the API said ready first: no tombstone needed');
    pod.child.exit({ exitCode: 0 });
    await running;
    t.ok(pod.podReadiness.closed);
  },
);

t.test('shutdown URLs are called once each with POST after the tombstone is written', async (t) => {
  const pod = setup(configOf({ shutdownUrls: 'istio,linkerd' }));
  let tombstoneAtCall: unknown;
  pod.poster.answer = () => {
    tombstoneAtCall = pod.graveyard.last();
    return { ok: true, detail: 'HTTP 200' };
  };
  const running = pod.start();
  await settle();
  t.same(pod.poster.calls, [], 'not while the child runs');
  pod.child.exit({ exitCode: 3 });
  t.match(await running, { exitCode: 3 }, 'the exit code stays the truth');
  t.same(pod.poster.calls.sort(), [
    'http://127.0.0.1:15020/quitquitquit',
    'http://localhost:4191/shutdown',
  ]);
  t.match(tombstoneAtCall, { died: String, exitCode: 3 });
  t.match(
    pod.logger.messages('info').join('\n'),
    /shutdown call POST http:\/\/127.0.0.1:15020\/quitquitquit: HTTP 200/,
  );
});

t.test(
  'a failing shutdown endpoint is retried a few times, then given up with a warning',
  async (t) => {
    const pod = setup(configOf({ shutdownUrls: 'http://localhost:1/quit' }));
    pod.poster.answer = () => ({ ok: false, detail: 'ECONNREFUSED' });
    const running = pod.start();
    await settle();
    pod.child.exit({ exitCode: 0 });
    await settle();
    pod.clock.advance(200);
    await settle();
    pod.clock.advance(400);
    t.match(await running, { exitCode: 0 });
    t.equal(pod.poster.calls.length, 3);
    t.match(pod.logger.messages('warn'), [
      /POST http:\/\/localhost:1\/quit failed after 3 attempts: ECONNREFUSED/,
    ]);
  },
);

t.test('a hanging shutdown endpoint delays the exit by at most the shutdown timeout', async (t) => {
  const pod = setup(configOf({ shutdownUrls: 'istio', shutdownTimeout: '3s' }));
  pod.poster.answer = () => new Promise(() => {});
  const running = pod.start();
  await settle();
  pod.child.exit({ exitCode: 0 });
  await settle();
  pod.clock.advance(3000);
  t.match(await running, { exitCode: 0 });
  t.match(pod.logger.messages('warn'), [/still unanswered after 3000ms: exiting anyway/]);
});

t.test('with shutdown-on-success-only, a failure does not call the shutdown URLs', async (t) => {
  const pod = setup(configOf({ shutdownUrls: 'istio', shutdownOnSuccessOnly: 'true' }));
  const running = pod.start();
  await settle();
  pod.child.exit({ exitCode: 1 });
  t.match(await running, { exitCode: 1 });
  t.same(pod.poster.calls, []);
});

t.test('shutdown URLs are also called when the command never started', async (t) => {
  const pod = setup(configOf({ shutdownUrls: 'istio', birthDeps: 'queue', birthTimeout: '1s' }));
  const running = pod.start();
  await settle();
  pod.clock.advance(1000);
  t.match(await running, { exitCode: 1, reason: 'birth-timeout' });
  t.same(
    pod.poster.calls,
    ['http://127.0.0.1:15020/quitquitquit'],
    'the proxy must not keep the pod alive',
  );
});

const BORN_WITH_SOCKET = { born: '2026-01-01T00:00:00Z', liveness: 'socket' };

t.test('this container holds its liveness socket and says so in its tombstone', async (t) => {
  const pod = setup(configOf({}));
  const running = pod.start();
  await settle();
  t.same(pod.liveness.held, ['me']);
  t.match(pod.graveyard.writes[0]?.tombstone, { born: String, liveness: 'socket' });
  pod.child.exit({ exitCode: 0 });
  await running;
  t.notOk('liveness' in (pod.graveyard.last() ?? {}), 'a dead record promises no socket');
});

t.test('a death dependency whose supervisor is lost counts as died (reason lost)', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main' }));
  pod.graveyard.put('main', BORN_WITH_SOCKET);
  const running = pod.start();
  await settle();
  t.equal(pod.liveness.following('main'), 1, 'its socket is followed');
  t.same(pod.child.signals, []);
  pod.liveness.lose('main');
  await settle();
  t.same(pod.child.signals, ['SIGTERM']);
  t.match(pod.logger.messages('warn').join('\n'), /the supervisor of "main" is gone/);
  t.match(
    pod.logger.messages('info').join('\n'),
    /death dependency "main" \(lost: its supervisor is gone\) died/,
  );
  pod.child.exit({ signal: 'SIGTERM' });
  t.match(await running, { exitCode: 0, reason: 'death-deps' });
});

t.test('a socket that closes because its holder ended normally is not a loss', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main' }));
  pod.graveyard.put('main', BORN_WITH_SOCKET);
  const running = pod.start();
  await settle();
  // The holder writes its final record, then exits; the socket may close before the event.
  pod.graveyard.put('main', DIED_OK);
  pod.liveness.lose('main');
  await settle();
  t.same(pod.child.signals, ['SIGTERM']);
  t.notMatch(pod.logger.messages('warn').join('\n'), /is gone/);
  pod.child.exit({ signal: 'SIGTERM' });
  await running;
});

t.test('a lost dependency that is born again is followed again, and is alive', async (t) => {
  const pod = setup(configOf({ birthDeps: 'proxy', birthTimeout: '1m' }));
  pod.graveyard.put('proxy', BORN_WITH_SOCKET);
  pod.liveness.gone.add('proxy');
  const running = pod.start();
  await settle();
  t.equal(pod.launcher.launches.length, 0, 'a lost birth dependency is not ready');
  t.match(pod.logger.messages('warn').join('\n'), /birth dependency "proxy" has died/);
  pod.liveness.gone.delete('proxy');
  pod.graveyard.put('proxy', { ...BORN_WITH_SOCKET, born: '2026-01-01T00:01:00Z' });
  pod.watcher.emit('proxy');
  await settle();
  t.equal(pod.launcher.launches.length, 1, 'its new life is ready');
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test('deaths are found by the periodic re-read when no event reports them', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main' }));
  pod.graveyard.put('main', BORN);
  const running = pod.start();
  await settle();
  pod.graveyard.put('main', DIED_OK);
  await settle();
  t.same(pod.child.signals, [], 'no event: not seen yet');
  pod.clock.advance(2_000);
  await settle();
  t.same(pod.child.signals, ['SIGTERM'], 'seen by the re-read 2 s later');
  pod.child.exit({ signal: 'SIGTERM' });
  await running;
});

t.test('the grace period ends the whole group even after its leader exited', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main', gracePeriod: '5s' }));
  const running = pod.start();
  await settle();
  pod.graveyard.put('main', DIED_OK);
  pod.watcher.emit('main');
  await settle();
  pod.child.groupMembersLeft = true;
  pod.child.exit({ signal: 'SIGTERM' });
  await settle();
  let ended = false;
  void running.then(() => {
    ended = true;
  });
  pod.clock.advance(4_000);
  await settle();
  t.notOk(ended, 'waits while members of the group remain');
  pod.clock.advance(1_000);
  await settle();
  t.same(pod.child.signals, ['SIGTERM', 'SIGKILL'], 'then SIGKILL to the group');
  t.match(await running, { exitCode: 0, reason: 'death-deps' });
});

t.test("a zero birth timeout is kubexit's: start only if ready at once, else exit 1", async (t) => {
  const ready = setup(configOf({ birthDeps: 'queue', birthTimeout: '0s' }));
  ready.graveyard.put('queue', BORN);
  const readyRun = ready.start();
  await settle();
  t.equal(ready.launcher.launches.length, 1, 'already ready: started');
  ready.child.exit({ exitCode: 0 });
  await readyRun;

  const missing = setup(configOf({ birthDeps: 'queue', birthTimeout: '-5s' }));
  const missingRun = missing.start();
  await settle();
  missing.clock.advance(0);
  t.match(await missingRun, { exitCode: 1, reason: 'birth-timeout' });
  t.equal(missing.launcher.launches.length, 0);
});

t.test('a negative grace period sends SIGKILL right after the stop signal', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main', gracePeriod: '-1s' }));
  const running = pod.start();
  await settle();
  pod.graveyard.put('main', DIED_OK);
  pod.watcher.emit('main');
  await settle();
  pod.clock.advance(0);
  t.same(pod.child.signals, ['SIGTERM', 'SIGKILL']);
  pod.child.exit({ signal: 'SIGKILL' });
  await running;
});

t.test(
  "API mode means kubexit's: a born tombstone is not enough, the pod status decides",
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'server' }), { apiMode: true });
    pod.graveyard.put('server', BORN);
    const running = pod.start();
    await settle();
    t.equal(pod.launcher.launches.length, 0, 'before the first answer, nothing is ready');
    pod.podReadiness.report();
    await settle();
    t.equal(pod.launcher.launches.length, 0, 'running, born, but not ready per its probe');
    pod.podReadiness.report('server');
    await settle();
    t.equal(pod.launcher.launches.length, 1, 'ready per the pod status');
    pod.child.exit({ exitCode: 0 });
    await running;
  },
);

t.test(
  'API mode: a wrapped dependency with a ready check of its own must pass it too',
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'queue' }), { apiMode: true });
    pod.graveyard.put('queue', { born: '2026-01-01T00:00:00Z', readiness: 'pending' });
    const running = pod.start();
    await settle();
    pod.podReadiness.report('queue');
    await settle();
    t.equal(pod.launcher.launches.length, 0, 'the API says ready, its own check has not passed');
    pod.graveyard.put('queue', { born: '2026-01-01T00:00:00Z', ready: '2026-01-01T00:00:01Z' });
    pod.watcher.emit('queue');
    await settle();
    t.equal(pod.launcher.launches.length, 1);
    pod.child.exit({ exitCode: 0 });
    await running;
  },
);

t.test('API mode refused by RBAC falls back to tombstones alone', async (t) => {
  const pod = setup(configOf({ birthDeps: 'server' }), { apiMode: true });
  pod.graveyard.put('server', BORN);
  const running = pod.start();
  await settle();
  t.equal(pod.launcher.launches.length, 0);
  pod.podReadiness.giveUp();
  await settle();
  t.equal(pod.launcher.launches.length, 1, 'born is ready again, as without the API');
  pod.child.exit({ exitCode: 0 });
  await running;
});

t.test('the plan line says what the container waits for and what ends it', async (t) => {
  t.equal(
    planOf(
      configOf({
        deathDeps: 'main,db',
        deathDepsPolicy: 'all',
        readyCheck: 'tcp://localhost:5672',
        shutdownUrls: 'http://u:p@127.0.0.1:15000/quitquitquit',
      }),
    ),
    'app (as me, graveyard /graveyard) starts at once; ends when it exits, or is stopped with SIGTERM when all of main, db die; ready when tcp://localhost:5672 passes; then calls http://u:p@127.0.0.1:15000/quitquitquit',
    'credentials are left to the logger, which redacts every line',
  );
  t.match(planOf(configOf({ deathDeps: 'main' })), /stopped with SIGTERM when main dies$/);
});

/** Makes Math.random return `value` for the rest of the test. */

t.test(
  'a death dependency that never writes a tombstone is named every 30 s (a typo is visible)',
  async (t) => {
    const pod = setup(configOf({ deathDeps: 'forwarderr,queue' }));
    pod.graveyard.put('queue', BORN);
    const running = pod.start();
    await settle();
    pod.clock.advance(29_000);
    t.same(pod.logger.messages('warn'), [], 'not before 30 s');
    pod.clock.advance(1_000);
    t.match(pod.logger.messages('warn'), [
      /death dependency "forwarderr" has written no tombstone in 30s: check the name, it must be the KUBEXIT_NAME of another container/,
    ]);
    pod.clock.advance(30_000);
    t.match(pod.logger.messages('warn')[1], /"forwarderr" has written no tombstone in 1m0s/);
    pod.graveyard.put('forwarderr', BORN);
    pod.clock.advance(2_000); // the periodic re-read finds it
    await settle();
    pod.clock.advance(60_000);
    t.equal(pod.logger.messages('warn').length, 2, 'once it has written one, nothing more');
    pod.child.exit({ exitCode: 0 });
    await running;
    t.equal(pod.clock.pendingTimers, 0, 'no timer left behind');
  },
);

const FAILED = { born: '2026-01-01T00:00:00Z', died: '2026-01-01T00:00:05Z', exitCode: 1 };

t.test(
  'restartPolicy OnFailure: a failed death dependency is left to the kubelet; its restart succeeding stops the command',
  async (t) => {
    const pod = setup(configOf({ deathDeps: 'main', restartPolicy: 'OnFailure' }));
    pod.graveyard.put('main', BORN);
    const running = pod.start();
    await settle();
    pod.graveyard.put('main', FAILED);
    pod.watcher.emit('main');
    await settle();
    t.same(pod.child.signals, [], 'the sidecar keeps running for the retry');
    t.match(
      pod.logger.messages('info').join('\n'),
      /death dependency "main" \(exit 1\) failed: with restartPolicy OnFailure the kubelet restarts it/,
    );
    pod.graveyard.put('main', { born: '2026-01-01T00:00:10Z' });
    pod.watcher.emit('main');
    await settle();
    t.same(pod.child.signals, [], 'the restarted main is alive');
    pod.graveyard.put('main', {
      born: '2026-01-01T00:00:10Z',
      died: '2026-01-01T00:00:20Z',
      exitCode: 0,
    });
    pod.watcher.emit('main');
    await settle();
    t.same(pod.child.signals, ['SIGTERM'], 'its success ends the sidecar');
    pod.child.exit({ signal: 'SIGTERM' });
    t.match(await running, { exitCode: 0, reason: 'death-deps' });
  },
);

t.test(
  'restartPolicy OnFailure: a dependency that failed before the start does not keep the command from starting',
  async (t) => {
    const pod = setup(configOf({ deathDeps: 'main', restartPolicy: 'OnFailure' }));
    pod.graveyard.put('main', FAILED);
    const running = pod.start();
    await settle();
    t.equal(pod.launcher.launches.length, 1);
    pod.child.exit({ exitCode: 0 });
    await running;
  },
);

t.test('restartPolicy Never (the default): any death stops the command, as kubexit', async (t) => {
  const pod = setup(configOf({ deathDeps: 'main' }));
  pod.graveyard.put('main', BORN);
  const running = pod.start();
  await settle();
  pod.graveyard.put('main', FAILED);
  pod.watcher.emit('main');
  await settle();
  t.same(pod.child.signals, ['SIGTERM']);
  pod.child.exit({ signal: 'SIGTERM' });
  await running;
});

t.test(
  'restartPolicy OnFailure: shutdown URLs are called on success only; a failure keeps the proxy for the retry',
  async (t) => {
    for (const [code, calls] of [
      [1, 0],
      [0, 1],
    ] as const) {
      const pod = setup(configOf({ shutdownUrls: 'istio', restartPolicy: 'OnFailure' }));
      const running = pod.start();
      await settle();
      pod.child.exit({ exitCode: code });
      await running;
      t.equal(pod.poster.calls.length, calls, `exit ${code}`);
    }
  },
);

t.test(
  'API mode: a dependency that is no container of the pod is a configuration error at once (exit 2)',
  async (t) => {
    const pod = setup(configOf({ birthDeps: 'queeu', birthTimeout: '10m' }), { apiMode: true });
    pod.podReadiness.facts = { restartPolicy: 'Never', containers: ['main', 'queue'] };
    const running = pod.start();
    await settle();
    pod.podReadiness.report('main');
    const outcome = await running;
    t.match(outcome, { exitCode: 2, reason: 'config-error' });
    t.match(
      outcome.message,
      /dependency "queeu" is not a container of this pod \(its containers: main, queue\)/,
    );
    t.equal(pod.launcher.launches.length, 0);
  },
);

t.test(
  "API mode: without KUBEXIT_RESTART_POLICY the pod's OnFailure is followed; a given one wins",
  async (t) => {
    for (const given of [undefined, 'Never'] as const) {
      const values = {
        birthDeps: 'queue',
        deathDeps: 'main',
        ...(given ? { restartPolicy: given } : {}),
      };
      const pod = setup(configOf(values), { apiMode: true });
      pod.podReadiness.facts = { restartPolicy: 'OnFailure', containers: ['main', 'queue', 'me'] };
      pod.graveyard.put('queue', BORN);
      pod.graveyard.put('main', BORN);
      const running = pod.start();
      await settle();
      pod.podReadiness.report('queue', 'main');
      await settle();
      t.equal(pod.launcher.launches.length, 1);
      pod.graveyard.put('main', FAILED);
      pod.watcher.emit('main');
      await settle();
      t.same(pod.child.signals, given ? ['SIGTERM'] : [], `restart policy ${given ?? "the pod's"}`);
      pod.child.exit({ exitCode: 0 });
      await running;
    }
  },
);

t.test(
  'the runtime is told when the life has begun and once the child has exited, before the ending is written',
  async (t) => {
    const pod = setup(configOf({}));
    const told: number[] = [];
    let begun = 0;
    const running = new Supervisor(configOf({}), {
      ...pod,
      lifeBegun: () => {
        begun += 1;
      },
      childExited: () => told.push(pod.graveyard.writes.length),
    }).run();
    await settle();
    t.equal(begun, 1, 'the life has begun, once');
    t.same(told, [], 'not while the child runs');
    const writesBefore = pod.graveyard.writes.length;
    pod.launcher.child.exit({ exitCode: 0 });
    await running;
    t.same(told, [writesBefore], 'once, before the final tombstone');
  },
);

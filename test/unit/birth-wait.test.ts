import t from 'tap';
import { BirthWait } from '../../src/core/life/birth-wait.ts';
import { Changes } from '../../src/core/life/changes.ts';
import { DependencyView } from '../../src/core/life/dependency-view.ts';
import type { Outcome } from '../../src/core/life/outcome.ts';
import { configOf } from '../helpers/config.ts';
import { FakeClock, FakeGraveyard, FakeProber, MemoryLogger, settle } from '../helpers/fakes.ts';

const BORN = '2026-01-01T00:00:00Z';

function waitOf(values: Parameters<typeof configOf>[0]) {
  const config = configOf(values);
  const graveyard = new FakeGraveyard();
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const prober = new FakeProber();
  const view = new DependencyView(config.birthDeps, { graveyard, clock, logger });
  const changes = new Changes();
  let interruption: Outcome | undefined;
  let verdict: Outcome | undefined | 'pending' = 'pending';
  const started = () => {
    void new BirthWait(config, { clock, logger, prober }, view)
      .run({ changes, interrupted: () => interruption })
      .then((result) => {
        verdict = result;
      });
  };
  return {
    clock,
    logger,
    prober,
    started,
    verdict: () => verdict,
    interrupt: (outcome: Outcome) => {
      interruption = outcome;
      changes.notify();
    },
    async put(name: string, born: boolean) {
      graveyard.put(name, born ? { born: BORN } : { waiting: BORN });
      await view.refresh(name);
      changes.notify();
    },
  };
}

t.test('waits until every birth dependency is ready, then lets the child start', async (t) => {
  const wait = waitOf({ birthDeps: 'queue,db' });
  wait.started();
  await settle();
  t.equal(wait.verdict(), 'pending');
  t.match(wait.logger.messages('info'), [
    /waiting for birth dependencies: queue, db \(timeout 30s\)/,
  ]);
  await wait.put('queue', true);
  await settle();
  t.equal(wait.verdict(), 'pending', 'db still missing');
  await wait.put('db', false);
  await settle();
  t.equal(wait.verdict(), 'pending', 'db waiting, not born');
  await wait.put('db', true);
  await settle();
  t.equal(wait.verdict(), undefined, 'undefined: the child may start');
});

t.test('the birth timeout: exit 1, naming what is missing and why', async (t) => {
  const wait = waitOf({ birthDeps: 'queue,tcp://localhost:5432', birthTimeout: '10s' });
  wait.started();
  await settle();
  wait.clock.advance(10_000);
  await settle();
  t.match(wait.verdict(), {
    exitCode: 1,
    reason: 'birth-timeout',
    message: /not ready after 10s: queue \(no tombstone\), tcp:\/\/localhost:5432 \(ECONNREFUSED\)/,
  });
  t.equal(wait.clock.pendingTimers, 0, 'no timer or poll left behind');
});

t.test('an endpoint passes: ready without a tombstone', async (t) => {
  const wait = waitOf({ birthDeps: 'tcp://localhost:5432' });
  wait.prober.results.set('tcp://localhost:5432', { ok: true, detail: 'connected' });
  wait.started();
  await settle();
  t.equal(wait.verdict(), undefined);
  t.ok(
    wait.logger
      .messages('info')
      .some((line) => /birth dependency tcp:\/\/localhost:5432 is ready \(connected\)/.test(line)),
    'the endpoint is said ready, with its detail',
  );
});

t.test(
  'interrupted (a signal, a death dependency died): the interruption replaces the child',
  async (t) => {
    const wait = waitOf({ birthDeps: 'queue' });
    wait.started();
    await settle();
    const stop: Outcome = {
      exitCode: 143,
      reason: 'signal-before-start',
      message: 'SIGTERM before the start',
    };
    wait.interrupt(stop);
    await settle();
    t.same(wait.verdict(), stop);
  },
);

t.test('progress is said every 10 s while waiting', async (t) => {
  const wait = waitOf({ birthDeps: 'queue', birthTimeout: '1m' });
  wait.started();
  await settle();
  wait.clock.advance(10_000);
  wait.clock.advance(10_000);
  t.equal(
    wait.logger
      .messages('info')
      .filter((line) => /still waiting for: queue \(no tombstone\)/.test(line)).length,
    2,
  );
});

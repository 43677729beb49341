import t from 'tap';
import { DeathWatch, UNSEEN_REPORT_EVERY_MS } from '../../src/core/life/death-watch.ts';
import { DependencyView } from '../../src/core/life/dependency-view.ts';
import type { Tombstone } from '../../src/core/model/tombstone.ts';
import { configOf } from '../helpers/config.ts';
import { FakeChild, FakeClock, FakeGraveyard, MemoryLogger } from '../helpers/fakes.ts';

const BORN = '2026-01-01T00:00:00Z';
const died = (exitCode: number): Tombstone => ({
  born: BORN,
  died: '2026-01-01T00:00:05Z',
  exitCode,
  reason: 'exited',
});

async function watchOf(values: Parameters<typeof configOf>[0]) {
  const config = configOf(values);
  const graveyard = new FakeGraveyard();
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const view = new DependencyView(config.deathDeps, { graveyard, clock, logger });
  const watch = new DeathWatch(config, { clock, logger }, view);
  const set = async (name: string, tombstone: Tombstone) => {
    graveyard.put(name, tombstone);
    await view.refresh(name);
  };
  return { clock, logger, watch, set };
}

t.test('a death before the start replaces the child: exit 0, reason death-deps', async (t) => {
  const { watch, set } = await watchOf({ deathDeps: 'main' });
  t.equal(watch.beforeStart(), undefined, 'nothing while main lives');
  await set('main', died(3));
  t.match(watch.beforeStart(), { exitCode: 0, reason: 'death-deps' });
});

t.test(
  'a death while the child runs: the stop signal to its group, SIGKILL after the grace',
  async (t) => {
    const { clock, logger, watch, set } = await watchOf({
      deathDeps: 'main',
      stopSignal: 'SIGINT',
      gracePeriod: '5s',
    });
    const child = new FakeChild();
    watch.check(child);
    t.same(child.signals, [], 'main alive: nothing sent');
    await set('main', died(0));
    watch.check(child);
    t.same(child.signals, ['SIGINT']);
    t.same(watch.stoppedBy, ['main']);
    t.match(
      logger.messages('info').at(-1),
      /death dependency "main" \(exit 0\) died: stopping the child with SIGINT, SIGKILL in 5s/,
    );
    watch.check(child);
    t.same(child.signals, ['SIGINT'], 'stopped once');
    clock.advance(5_000);
    t.same(child.signals, ['SIGINT', 'SIGKILL'], 'SIGKILL when the grace period is over');
  },
);

t.test('policy all: only once every death dependency has died', async (t) => {
  const { watch, set } = await watchOf({ deathDeps: 'a,b', deathDepsPolicy: 'all' });
  const child = new FakeChild();
  await set('a', died(0));
  watch.check(child);
  t.same(child.signals, [], 'one of two is not enough');
  await set('b', died(1));
  watch.check(child);
  t.same(child.signals, ['SIGTERM']);
});

t.test(
  'restartPolicy OnFailure: a failed death dependency is left to the kubelet, a success stops',
  async (t) => {
    const { logger, watch, set } = await watchOf({ deathDeps: 'main', restartPolicy: 'OnFailure' });
    const child = new FakeChild();
    await set('main', died(1));
    watch.check(child);
    watch.check(child);
    t.same(child.signals, []);
    t.equal(
      logger.messages('info').filter((line) => /the kubelet restarts it/.test(line)).length,
      1,
      'said once per life',
    );
    await set('main', died(0));
    watch.check(child);
    t.same(child.signals, ['SIGTERM']);
  },
);

t.test(
  'a group member left after its leader exits is waited for until the grace ends, then killed',
  async (t) => {
    const { clock, watch, set } = await watchOf({ deathDeps: 'main', gracePeriod: '2s' });
    const child = new FakeChild();
    await set('main', died(0));
    watch.check(child);
    child.groupMembersLeft = true;
    let done = false;
    const after = watch.afterLeaderExit(child).then(() => {
      done = true;
    });
    clock.advance(1_000);
    await Promise.resolve();
    t.equal(done, false, 'still within the grace period');
    clock.advance(1_000);
    await after;
    t.same(child.signals, ['SIGTERM', 'SIGKILL']);
  },
);

t.test('a death dependency that never wrote a tombstone is named every 30 s', async (t) => {
  const { clock, logger, watch, set } = await watchOf({ deathDeps: 'forwarderr,queue' });
  await set('queue', { born: BORN });
  watch.reportUnseen();
  clock.advance(UNSEEN_REPORT_EVERY_MS);
  t.match(logger.messages('warn'), [
    /death dependency "forwarderr" has written no tombstone in 30s: check the name/,
  ]);
  clock.advance(UNSEEN_REPORT_EVERY_MS);
  t.match(logger.messages('warn').at(-1), /in 1m0s: check the name/);
  watch.cancel();
  clock.advance(UNSEEN_REPORT_EVERY_MS);
  t.equal(logger.messages('warn').length, 2, 'no report once cancelled');
});

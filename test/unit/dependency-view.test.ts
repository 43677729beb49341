import t from 'tap';
import { DependencyView } from '../../src/core/life/dependency-view.ts';
import type { Tombstone } from '../../src/core/model/tombstone.ts';
import { FakeClock, FakeGraveyard, FakeLiveness, MemoryLogger, settle } from '../helpers/fakes.ts';

const ALIVE: Tombstone = { born: '2026-01-01T00:00:00Z', liveness: 'socket' };
const DIED_OK: Tombstone = {
  born: '2026-01-01T00:00:00Z',
  died: '2026-01-01T00:00:05Z',
  exitCode: 0,
  reason: 'exited',
};

function viewOf(names: string[]) {
  const graveyard = new FakeGraveyard();
  const liveness = new FakeLiveness();
  const logger = new MemoryLogger();
  const view = new DependencyView(names, { graveyard, liveness, logger, clock: new FakeClock() });
  return { graveyard, liveness, logger, view };
}

t.test(
  'a dependency that ends normally between the first read and the socket check is dead, not lost',
  async (t) => {
    const { graveyard, liveness, logger, view } = viewOf(['main']);
    graveyard.put('main', ALIVE);
    // The check comes after the read: by then main wrote its death and its socket closed.
    liveness.isHeld = async (name) => {
      graveyard.put(name, DIED_OK);
      return false;
    };
    await view.refresh();
    t.match(view.snapshot.get('main'), { exitCode: 0, reason: 'exited' });
    t.notMatch(logger.messages('warn').join('\n'), /is gone/, 'no OOM kill is reported');
  },
);

t.test(
  'a dependency found with its socket closed and its tombstone still alive is lost',
  async (t) => {
    const { graveyard, liveness, view } = viewOf(['main']);
    graveyard.put('main', ALIVE);
    liveness.gone.add('main');
    await view.refresh();
    t.match(view.snapshot.get('main'), { exitCode: 137, reason: 'lost' });
  },
);

t.test(
  'the graveyard removed: a followed dependency whose socket closes with no tombstone left is lost',
  async (t) => {
    const { graveyard, liveness, logger, view } = viewOf(['main']);
    let changes = 0;
    view.onChange(() => changes++);
    graveyard.put('main', ALIVE);
    await view.refresh();
    t.equal(liveness.following('main'), 1);
    graveyard.entries.delete('main');
    await view.refresh(); // the watcher reports the removal before the socket closes
    t.equal(liveness.following('main'), 1, 'a life whose tombstone vanished is still followed');
    liveness.lose('main');
    await settle();
    t.match(view.snapshot.get('main'), { exitCode: 137, reason: 'lost' });
    t.equal(changes, 1, 'the view said it changed');
    t.match(logger.messages('warn').join('\n'), /the supervisor of "main" is gone/);
    await view.refresh();
    t.match(view.snapshot.get('main'), { reason: 'lost' }, 'and stays lost on later reads');
  },
);

t.test('a socket that closes after the final tombstone was written is no loss', async (t) => {
  const { graveyard, liveness, logger, view } = viewOf(['main']);
  graveyard.put('main', ALIVE);
  await view.refresh();
  graveyard.put('main', DIED_OK);
  liveness.lose('main');
  await settle();
  t.match(view.snapshot.get('main'), { exitCode: 0, reason: 'exited' });
  t.notMatch(logger.messages('warn').join('\n'), /is gone/);
});

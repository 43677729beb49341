import t from 'tap';
import type { Tombstone } from '../../src/core/model/tombstone.ts';
import {
  describeState,
  hasLivenessSocket,
  isAlive,
  isDead,
  isReady,
  stateOf,
} from '../../src/core/model/tombstone-state.ts';

const BORN = '2026-01-01T00:00:00Z';
const DIED = '2026-01-01T00:00:05Z';

t.test('what a tombstone says of its container', async (t) => {
  const cases: Array<[Tombstone | undefined, string, boolean, boolean, boolean]> = [
    [undefined, 'absent', false, false, false],
    [{ waiting: BORN } as Tombstone, 'waiting', false, false, false],
    [{ born: BORN, readiness: 'pending' } as Tombstone, 'starting', true, false, false],
    [{ born: BORN, readiness: 'ready' } as Tombstone, 'ready', true, true, false],
    [{ born: BORN } as Tombstone, 'ready', true, true, false],
    [{ born: BORN, died: DIED, exitCode: 1 } as Tombstone, 'dead', false, false, true],
    [{ died: DIED, exitCode: 0 } as Tombstone, 'dead', false, false, true],
  ];
  for (const [tombstone, state, alive, ready, dead] of cases) {
    const what = JSON.stringify(tombstone);
    t.equal(stateOf(tombstone), state, `${what}: ${state}`);
    t.equal(isAlive(tombstone), alive, `${what}: alive ${alive}`);
    t.equal(isReady(tombstone), ready, `${what}: ready ${ready}`);
    t.equal(isDead(tombstone), dead, `${what}: dead ${dead}`);
  }
});

t.test('a liveness socket is followed only while its container is alive', async (t) => {
  t.equal(hasLivenessSocket({ born: BORN, liveness: 'socket' } as Tombstone), true);
  t.equal(hasLivenessSocket({ born: BORN } as Tombstone), false);
  t.equal(hasLivenessSocket({ born: BORN, died: DIED, liveness: 'socket' } as Tombstone), false);
});

t.test('described for messages', async (t) => {
  t.equal(describeState(undefined), 'no tombstone');
  t.match(describeState({ born: BORN, died: DIED, exitCode: 1 } as Tombstone), /died, exit 1/);
  t.match(
    describeState({ died: DIED, exitCode: 137, reason: 'lost' } as Tombstone),
    /^lost: its supervisor is gone$/,
  );
});

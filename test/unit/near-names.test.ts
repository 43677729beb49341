import t from 'tap';
import { reportNearNames } from '../../src/core/life/near-names.ts';
import { nearest } from '../../src/core/model/nearest.ts';
import { FakeGraveyard, MemoryLogger } from '../helpers/fakes.ts';

const BORN = { born: '2026-01-01T00:00:00Z' };

function pod(present: string[]) {
  const graveyard = new FakeGraveyard();
  for (const name of present) graveyard.put(name, BORN);
  return { graveyard, logger: new MemoryLogger() };
}

t.test(
  'a death dependency typo is named at once, with the name that has a tombstone',
  async (t) => {
    const p = pod(['forwarder']);
    const config = { name: 'queue', birthDeps: [], deathDeps: ['fowarder'] };
    await reportNearNames(config, new Map(), p);
    t.same(p.logger.messages('warn'), [
      'death dependency "fowarder" has no tombstone, but "forwarder" has one: did you mean forwarder? (check KUBEXIT_DEATH_DEPS)',
    ]);
  },
);

t.test('a birth dependency typo too', async (t) => {
  const p = pod(['queue']);
  await reportNearNames({ name: 'main', birthDeps: ['qeue'], deathDeps: [] }, new Map(), p);
  t.match(p.logger.messages('warn'), [/birth dependency "qeue" .* did you mean queue\?/]);
});

t.test('nothing said when the dependency has its tombstone, or nothing is near', async (t) => {
  const p = pod(['forwarder', 'database']);
  const snapshot = new Map([['forwarder', BORN]]);
  await reportNearNames({ name: 'q', birthDeps: [], deathDeps: ['forwarder'] }, snapshot, p);
  await reportNearNames({ name: 'q', birthDeps: ['queue'], deathDeps: [] }, new Map(), p);
  t.same(p.logger.messages('warn'), []);
});

t.test('names that differ only in digits are other containers, not typos', async (t) => {
  const p = pod(['worker-2']);
  await reportNearNames({ name: 'q', birthDeps: [], deathDeps: ['worker-1'] }, new Map(), p);
  t.same(p.logger.messages('warn'), []);
});

t.test('its own tombstone and its other dependencies are never suggested', async (t) => {
  const p = pod(['side-a', 'side-b']);
  const config = { name: 'side-a', birthDeps: [], deathDeps: ['side-c', 'side-b'] };
  await reportNearNames(config, new Map([['side-b', BORN]]), p);
  t.same(p.logger.messages('warn'), []);
});

t.test('nearest: the closest candidate within the distance, never the name itself', async (t) => {
  t.equal(nearest('fowarder', ['forwarder', 'fowarder', 'queue'], 2), 'forwarder');
  t.equal(nearest('abc', ['xyz'], 2), undefined);
  t.equal(
    nearest('KUBEXIT_BIRTH_DEP', ['KUBEXIT_BIRTH_DEPS', 'KUBEXIT_DEATH_DEPS'], 3),
    'KUBEXIT_BIRTH_DEPS',
  );
});

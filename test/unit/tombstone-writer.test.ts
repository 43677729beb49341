import t from 'tap';
import { TombstoneWriter } from '../../src/core/life/tombstone-writer.ts';
import { FakeGraveyard, MemoryLogger } from '../helpers/fakes.ts';

t.test('a readiness change that comes after the death cannot undo it', async (t) => {
  const graveyard = new FakeGraveyard();
  const writer = new TombstoneWriter('sidecar', graveyard, new MemoryLogger());
  await writer.recordBirth('2026-01-01T00:00:00Z', true);
  const died = writer.died({ died: '2026-01-01T00:00:05Z', exitCode: 0, reason: 'exited' });
  // The readiness poll resolved just before the child exited; its callback runs after died().
  await writer.ready('2026-01-01T00:00:04Z');
  await died;
  t.match(graveyard.last(), {
    born: '2026-01-01T00:00:00Z',
    died: '2026-01-01T00:00:05Z',
    exitCode: 0,
  });
});

t.test('writes land in the order they were made', async (t) => {
  const graveyard = new FakeGraveyard();
  const writer = new TombstoneWriter('main', graveyard, new MemoryLogger());
  void writer.recordBirth('2026-01-01T00:00:00Z', true);
  void writer.ready('2026-01-01T00:00:01Z');
  await writer.died({ died: '2026-01-01T00:00:02Z', exitCode: 3 });
  t.same(
    graveyard.writes.map((w) => Object.keys(w.tombstone)),
    [
      ['born', 'readiness'],
      ['born', 'ready'],
      ['born', 'ready', 'died', 'exitCode'],
    ],
  );
});

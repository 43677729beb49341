import t from 'tap';
import { endLife } from '../../src/core/life/ending.ts';
import { TombstoneWriter } from '../../src/core/life/tombstone-writer.ts';
import { FakeClock, FakeGraveyard, FakePoster, MemoryLogger, settle } from '../helpers/fakes.ts';

const CONFIG_ERROR = { exitCode: 2, reason: 'config-error' as const, message: 'bad option' };

function ports() {
  const graveyard = new FakeGraveyard();
  const logger = new MemoryLogger();
  const tombstone = new TombstoneWriter('main', graveyard, logger);
  return { graveyard, logger, tombstone, clock: new FakeClock(), poster: new FakePoster() };
}

t.test('a configuration error records the death and still asks the proxy to quit', async (t) => {
  const p = ports();
  const ending = endLife(
    CONFIG_ERROR,
    { shutdownUrls: ['http://127.0.0.1:15020/quitquitquit'] },
    p,
  );
  await settle();
  t.equal(await ending, 2);
  t.match(p.graveyard.last(), { exitCode: 2, reason: 'config-error', died: String });
  t.same(p.poster.calls, ['http://127.0.0.1:15020/quitquitquit']);
  t.match(p.logger.messages('error'), [/bad option/]);
});

t.test('the outcome is logged before the shutdown calls it causes', async (t) => {
  const p = ports();
  const exited = { exitCode: 0, reason: 'exited' as const, message: 'child exited with code 0' };
  await endLife(exited, { shutdownUrls: ['http://x/quit'] }, p);
  const order = p.logger.lines.map((line) => line.message);
  t.ok(
    order.findIndex((m) => m.includes('child exited')) <
      order.findIndex((m) => m.includes('shutdown call')),
  );
});

t.test('without a known name there is no tombstone, but the calls are still made', async (t) => {
  const p = ports();
  await endLife(CONFIG_ERROR, { shutdownUrls: ['http://x/quit'] }, { ...p, tombstone: undefined });
  t.equal(p.graveyard.writes.length, 0);
  t.same(p.poster.calls, ['http://x/quit']);
});

t.test('a final record that cannot be written is said, and the code stays true', async (t) => {
  const p = ports();
  p.graveyard.finalError = new Error('ENOSPC: no space left on device');
  t.equal(await endLife({ ...CONFIG_ERROR, exitCode: 3, reason: 'exited' }, {}, p), 3);
  t.match(p.logger.messages('error'), [/could not write the final tombstone.*ENOSPC.*true code 3/]);
});

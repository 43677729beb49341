import t from 'tap';
import { endBeforeLife } from '../../src/core/life/early-ending.ts';
import { claimName } from '../../src/core/life/name-claim.ts';
import { Supervisor } from '../../src/core/life/supervisor.ts';
import { SupervisorError } from '../../src/core/model/errors.ts';
import { configOf } from '../helpers/config.ts';
import {
  FakeClock,
  FakeGraveyard,
  FakeLauncher,
  FakeLiveness,
  FakePoster,
  FakeProber,
  FakeSignals,
  FakeWatcher,
  MemoryLogger,
} from '../helpers/fakes.ts';

const CONFIG_ERROR = { exitCode: 2, reason: 'config-error' as const, message: 'bad option' };
const QUIT = 'http://127.0.0.1:15020/quitquitquit';

function ports() {
  return {
    graveyard: new FakeGraveyard(),
    liveness: new FakeLiveness(),
    logger: new MemoryLogger(),
    clock: new FakeClock(),
    poster: new FakePoster(),
  };
}

t.test('a name nobody holds is claimed: the claim carries the writer', async (t) => {
  const p = ports();
  const claim = await claimName('main', p);
  t.equal(claim.owned, true);
  if (claim.owned) await claim.tombstone.recordBirth('2026-01-01T00:00:00Z', false);
  t.equal(p.graveyard.writes.length, 1);
});

t.test('a name a live container holds is refused, naming the name and the fix', async (t) => {
  const p = ports();
  p.liveness.heldByOthers.add('main');
  const claim = await claimName('main', p);
  t.equal(claim.owned, false);
  if (!claim.owned) {
    t.equal(claim.refusal.exitCode, 2);
    t.match(claim.refusal.message, /KUBEXIT_NAME=main .*give each container its own name/);
  }
});

t.test('a liveness check that fails proves nobody holds the name', async (t) => {
  const p = ports();
  p.liveness.isSurelyHeld = async () => {
    throw new Error('EACCES');
  };
  t.equal((await claimName('main', p)).owned, true);
});

t.test('an early ending of a held name writes nothing and calls nothing', async (t) => {
  const p = ports();
  p.liveness.heldByOthers.add('main');
  const known = { name: 'main', graveyard: '/graveyard', shutdownUrls: [QUIT] };
  t.equal(await endBeforeLife(CONFIG_ERROR, known, p), 2);
  t.same(p.graveyard.writes, [], "the live container's tombstone is untouched");
  t.same(p.poster.calls, [], "its sidecars' shutdown calls are its own");
  t.match(p.logger.messages('error'), [/KUBEXIT_NAME=main/, /bad option/, /no tombstone written/]);
});

t.test('an early ending of a free name records the death and makes the calls', async (t) => {
  const p = ports();
  const known = { name: 'main', graveyard: '/graveyard', shutdownUrls: [QUIT] };
  t.equal(await endBeforeLife(CONFIG_ERROR, known, p), 2);
  t.match(p.graveyard.last(), { exitCode: 2, reason: 'config-error', died: String });
  t.same(p.poster.calls, [QUIT]);
});

t.test('an early ending without a valid name still makes the calls, and says why', async (t) => {
  const { graveyard: _unknown, ...p } = ports();
  t.equal(await endBeforeLife(CONFIG_ERROR, { shutdownUrls: [QUIT] }, p), 2);
  t.same(p.poster.calls, [QUIT]);
  t.match(p.logger.messages('error'), [/bad option/, /no tombstone can be written/]);
});

t.test('an early ending whose graveyard cannot be prepared says so', async (t) => {
  const p = ports();
  p.graveyard.prepareError = new Error('EROFS: read-only file system');
  t.equal(await endBeforeLife(CONFIG_ERROR, { name: 'main', graveyard: '/g' }, p), 2);
  t.same(p.graveyard.writes, []);
  t.match(p.logger.messages('error'), [
    /bad option/,
    /could not write the tombstone either: .*EROFS/,
  ]);
});

t.test('a supervisor of a held name writes nothing, calls nothing and exits 2', async (t) => {
  const p = ports();
  p.liveness.heldByOthers.add('main');
  const config = configOf({ name: 'main', shutdownUrls: QUIT });
  const launcher = new FakeLauncher();
  const outcome = await new Supervisor(config, {
    ...p,
    launcher,
    watcher: new FakeWatcher(),
    signals: new FakeSignals(),
    prober: new FakeProber(),
  }).run();
  t.equal(outcome.exitCode, 2);
  t.same(p.graveyard.writes, []);
  t.same(p.poster.calls, []);
  t.equal(launcher.launches.length, 0, 'the command never started');
});

t.test('API mode connects only once the name is claimed; its failure is recorded', async (t) => {
  const p = ports();
  const config = configOf({ name: 'main' });
  const outcome = await new Supervisor(config, {
    ...p,
    launcher: new FakeLauncher(),
    watcher: new FakeWatcher(),
    signals: new FakeSignals(),
    prober: new FakeProber(),
    connectPod: async () => {
      throw new SupervisorError('KUBECONFIG names /x, which does not exist', 2);
    },
  }).run();
  t.equal(outcome.exitCode, 2);
  t.match(p.graveyard.last(), { exitCode: 2, died: String });
});

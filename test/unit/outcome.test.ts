import t from 'tap';
import {
  childOutcome,
  deathBeforeStart,
  failureOutcome,
  signalBeforeStart,
  spawnFailure,
} from '../../src/core/life/outcome.ts';
import { ConfigError } from '../../src/core/model/config.ts';

t.test("the child's end: its own code, or 0 when death dependencies stopped it", async (t) => {
  t.match(childOutcome({ exitCode: 3 }, undefined, true), { exitCode: 3, reason: 'exited' });
  t.match(childOutcome({ signal: 'SIGKILL' }, undefined, true), {
    exitCode: 137,
    reason: 'exited',
    signal: 'SIGKILL',
  });
  t.match(childOutcome({ signal: 'SIGTERM' }, ['main'], true), {
    exitCode: 0,
    reason: 'death-deps',
  });
  t.match(childOutcome({ signal: 'SIGTERM' }, ['main'], false), {
    exitCode: 143,
    reason: 'death-deps',
  });
  t.match(childOutcome({ exitCode: 143 }, undefined, true, 'SIGTERM'), {
    exitCode: 143,
    reason: 'stopped',
    message: /after kubexit received SIGTERM and forwarded it/,
  });
});

t.test(
  'a command that cannot start: 127 when absent, 126 otherwise, the cause named',
  async (t) => {
    t.match(spawnFailure('app', 'ENOENT', ''), {
      exitCode: 127,
      message: /check the name and PATH/,
    });
    t.match(spawnFailure('/bin/app', 'ENOENT', ''), { exitCode: 127, message: /check the path/ });
    t.match(spawnFailure('/x', 'EACCES', ''), { exitCode: 126, message: /chmod \+x/ });
    t.match(spawnFailure('/x', 'ETXTBSY', ''), { exitCode: 126, message: /being written/ });
    t.match(spawnFailure('/x', 'EWEIRD', 'something odd'), {
      exitCode: 126,
      message: /something odd/,
    });
  },
);

t.test('before the start: a death is exit 0, a signal 128+N', async (t) => {
  t.match(deathBeforeStart(['main']), { exitCode: 0, reason: 'death-deps-before-start' });
  t.match(signalBeforeStart('SIGTERM'), { exitCode: 143, reason: 'signal-before-start' });
});

t.test('errors: ours carry their code, anything else is a bug (125)', async (t) => {
  t.match(failureOutcome(new ConfigError(['KUBEXIT_NAME is missing'])), {
    exitCode: 2,
    reason: 'config-error',
  });
  t.match(failureOutcome(new TypeError('x is undefined')), {
    exitCode: 125,
    reason: 'internal-error',
    message: /please report it/,
  });
});

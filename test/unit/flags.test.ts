import t from 'tap';
import { parseFlags } from '../../src/cli/flags.ts';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseFlags(argv, env, '0.0.0');

t.test('boolean flags work bare, negated, or with =value; never eat the next word', async (t) => {
  t.match(run(['--shutdown-on-success-only', 'app', '--flag']), {
    kind: 'run',
    raw: {
      values: { shutdownOnSuccessOnly: { value: 'true', source: '--shutdown-on-success-only' } },
      command: ['app', '--flag'],
    },
  });
  t.match(run(['--no-ignore-code-on-death-deps', 'app']), {
    kind: 'run',
    raw: { values: { ignoreCodeOnDeathDeps: { value: 'false' } }, command: ['app'] },
  });
  for (const [word, value] of [
    ['true', 'true'],
    ['1', 'true'],
    ['FALSE', 'false'],
    ['0', 'false'],
  ]) {
    t.match(run([`--shutdown-on-success-only=${word}`, 'app']), {
      kind: 'run',
      raw: { values: { shutdownOnSuccessOnly: { value } }, command: ['app'] },
    });
  }
  // A value-taking option's value is not mistaken for the command, nor rewritten.
  t.match(run(['--graveyard', '/g', '--shutdown-on-success-only', 'app']), {
    kind: 'run',
    raw: {
      values: { graveyard: { value: '/g' }, shutdownOnSuccessOnly: { value: 'true' } },
      command: ['app'],
    },
  });
  // The command's own arguments are never touched.
  t.match(run(['app', '--shutdown-on-success-only=maybe']), {
    kind: 'run',
    raw: { command: ['app', '--shutdown-on-success-only=maybe'] },
  });
  t.match(run(['--', '--shutdown-on-success-only']), {
    kind: 'run',
    raw: { command: ['--shutdown-on-success-only'] },
  });
});

t.test('a bad boolean value or a boolean flag given twice is refused, the rest kept', async (t) => {
  t.match(run(['--name', 'main', '--shutdown-on-success-only=maybe', 'app']), {
    kind: 'invalid',
    problem:
      /--shutdown-on-success-only=maybe is not a boolean flag value: give --shutdown-on-success-only alone/,
    raw: { values: { name: { value: 'main' } } },
  });
  t.match(run(['--shutdown-on-success-only', '--no-shutdown-on-success-only', 'app']), {
    kind: 'invalid',
    problem: /--shutdown-on-success-only is given twice/,
  });
  t.match(run(['--no-shutdown-on-success-only=true', 'app']), { kind: 'invalid' });
});

t.test('without the flag, the environment variable decides', async (t) => {
  t.match(run(['--name', 'm', 'app'], { KUBEXIT_SHUTDOWN_ON_SUCCESS_ONLY: 'true' }), {
    kind: 'run',
    raw: {
      values: {
        shutdownOnSuccessOnly: { value: 'true', source: 'KUBEXIT_SHUTDOWN_ON_SUCCESS_ONLY' },
      },
    },
  });
});

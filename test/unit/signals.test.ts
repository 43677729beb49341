import t from 'tap';
import { exitCodeOf } from '../../src/core/exit-status.ts';
import { parseSignal, signalNumber } from '../../src/core/signals.ts';

t.test('parses signal names in every common spelling', async (t) => {
  t.equal(parseSignal('SIGTERM'), 'SIGTERM');
  t.equal(parseSignal('term'), 'SIGTERM');
  t.equal(parseSignal('15'), 'SIGTERM');
  t.equal(parseSignal('sigint'), 'SIGINT');
  t.equal(parseSignal(' QUIT '), 'SIGQUIT');
  t.equal(parseSignal('FOO'), undefined);
  t.equal(parseSignal('99'), undefined);
  t.equal(parseSignal(''), undefined);
});

t.test('uses Linux signal numbers', async (t) => {
  t.equal(signalNumber('SIGKILL'), 9);
  t.equal(signalNumber('SIGUSR1'), 10);
  t.equal(signalNumber('SIGWINCH'), 28);
});

t.test("exit code is the child's code, or 128+N for a signal", async (t) => {
  t.equal(exitCodeOf({ exitCode: 0 }), 0);
  t.equal(exitCodeOf({ exitCode: 3 }), 3);
  t.equal(exitCodeOf({ signal: 'SIGTERM' }), 143);
  t.equal(exitCodeOf({ signal: 'SIGKILL' }), 137);
  t.equal(exitCodeOf({ signal: 'SIGINT' }), 130);
});

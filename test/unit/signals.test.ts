import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  FORWARDED_SIGNALS,
  parseSignal,
  signalNumber,
  TERMINATING_SIGNALS,
} from '../../src/core/model/signals.ts';

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

t.test(
  "the native front's signal lists are the supervisor's (native/front.c reads none of signals.ts)",
  async (t) => {
    const front = readFileSync(new URL('../../native/front.c', import.meta.url), 'utf8');
    const list = (name: string) => {
      const match = new RegExp(`static const int ${name}\\[\\] = \\{([^}]*)\\}`).exec(front);
      if (match === null) throw new Error(`front.c has no ${name} list`);
      return (match[1] ?? '')
        .split(',')
        .map((word) => word.trim())
        .sort();
    };
    t.same(list('FORWARDED'), [...FORWARDED_SIGNALS].sort(), 'FORWARDED is FORWARDED_SIGNALS');
    t.same(
      list('TERMINATING'),
      [...TERMINATING_SIGNALS].sort(),
      'TERMINATING is TERMINATING_SIGNALS',
    );
  },
);

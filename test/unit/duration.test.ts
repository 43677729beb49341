import t from 'tap';
import { formatDuration, parseDuration } from '../../src/core/model/duration.ts';

t.test('accepts Go duration syntax', async (t) => {
  const cases: Array<[string, number]> = [
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['.5s', 500],
    ['0s', 0],
    ['0', 0],
    ['+0', 0],
    ['+5s', 5_000],
    ['-1.5s', -1_500],
    ['1h2m', 3_720_000],
    ['250ms', 250],
    ['5.s', 5_000],
    ['1μs', 0.001],
    ['2562047h', 2562047 * 3_600_000],
  ];
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text);
});

t.test('accepts plain seconds', async (t) => {
  t.equal(parseDuration('30'), 30_000);
  t.equal(parseDuration('2.5'), 2_500);
  t.equal(parseDuration(' 0 '), 0);
});

t.test('rejects everything else', async (t) => {
  for (const text of [
    '',
    'x',
    '30sec',
    '1 hour',
    '1d',
    '5s ago',
    '+-5s',
    '2562048h',
    '+5',
    's',
    '1.2.3s',
    '10S',
    '1m 30s',
  ]) {
    t.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
});

t.test('formats durations for messages', async (t) => {
  t.equal(formatDuration(300), '300ms');
  t.equal(formatDuration(30_000), '30s');
  t.equal(formatDuration(90_000), '1m30s');
  t.equal(formatDuration(3_600_000), '1h0m0s');
  t.equal(formatDuration(1_500), '1.5s');
});

t.test(
  "kubexit's durations keep kubexit's meaning: zero and negative mean no time at all",
  async (t) => {
    const { parseConfig } = await import('../../src/core/model/config.ts');
    const raw = (birthTimeout: string, gracePeriod: string) => ({
      values: {
        name: { value: 'main', source: 'KUBEXIT_NAME' },
        birthTimeout: { value: birthTimeout, source: 'KUBEXIT_BIRTH_TIMEOUT' },
        gracePeriod: { value: gracePeriod, source: 'KUBEXIT_GRACE_PERIOD' },
      },
      command: ['app'],
    });
    t.match(parseConfig(raw('0s', '-5s')), { birthTimeoutMs: 0, gracePeriodMs: 0 });
    t.match(parseConfig(raw('+5s', '1.5s')), { birthTimeoutMs: 5_000, gracePeriodMs: 1_500 });
    t.match(parseConfig(raw('1000h', '1h2m')), { birthTimeoutMs: 3_600_000_000 });
    t.throws(
      () =>
        parseConfig({
          ...raw('5s', '5s'),
          values: {
            ...raw('5s', '5s').values,
            pollInterval: { value: '-1s', source: 'KUBEXIT_POLL_INTERVAL' },
          },
        }),
      /must be greater than zero/,
    );
  },
);

t.test('the shortcut for <digits><unit> agrees with the full grammar', async (t) => {
  for (const [simple, full] of [
    ['0ms', '0.0ms'],
    ['100ms', '100.0ms'],
    ['30s', '30.0s'],
    ['010s', '10.0s'],
    ['5m', '5.0m'],
    ['999999h', '999999.0h'],
    ['1000000h', '1000000.0h'],
  ]) {
    t.equal(parseDuration(simple as string), parseDuration(full as string), simple as string);
  }
});

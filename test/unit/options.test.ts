import t from 'tap';
import {
  BOOLEAN_WORDS,
  collectRawValues,
  OPTION_SPECS,
  oneOf,
  specOf,
} from '../../src/core/model/options.ts';

t.test('a flag wins over its variable; an empty variable is unset', async (t) => {
  const values = collectRawValues(
    { gracePeriod: '5s' },
    { KUBEXIT_GRACE_PERIOD: '10s', KUBEXIT_NAME: 'main', KUBEXIT_BIRTH_DEPS: '' },
  );
  t.same(values.gracePeriod, { value: '5s', source: '--grace-period' });
  t.same(values.name, { value: 'main', source: 'KUBEXIT_NAME' });
  t.equal(values.birthDeps, undefined);
});

t.test(
  'the table is consistent: one flag and one variable each, defaults among the choices',
  async (t) => {
    const flags = OPTION_SPECS.map((spec) => spec.flag);
    const envs = OPTION_SPECS.map((spec) => spec.env);
    t.equal(new Set(flags).size, flags.length, 'flags are unique');
    t.equal(new Set(envs).size, envs.length, 'variables are unique');
    for (const spec of OPTION_SPECS) {
      t.match(spec.env, /^KUBEXIT_[A-Z_]+$/);
      if (spec.choices !== undefined && spec.default !== undefined)
        t.ok(
          spec.choices.includes(spec.default),
          `the default of --${spec.flag} is one of its choices`,
        );
    }
    t.equal(specOf('graveyard').default, '/graveyard');
    t.throws(() => specOf('nope' as never), /no option nope/);
  },
);

t.test('words: booleans, and "a, b or c"', async (t) => {
  t.same(
    [...BOOLEAN_WORDS],
    [
      ['true', true],
      ['false', false],
      ['1', true],
      ['0', false],
    ],
  );
  t.equal(oneOf(['debug', 'info', 'warn', 'error']), 'debug, info, warn or error');
  t.equal(oneOf(['text']), 'text');
});

t.test('the help names every form of check the parser accepts', async (t) => {
  const { parseCheck } = await import('../../src/core/model/checks.ts');
  const { specOf } = await import('../../src/core/model/options.ts');
  const examples: Array<[string, string]> = [
    ['tcp://localhost:1', 'tcp://'],
    ['http://localhost/', 'http(s)://'],
    ['https://localhost/', 'http(s)://'],
    ['https+insecure://localhost/', 'https+insecure://'],
    ['file:///ready', 'file:///'],
    ['exec:true', 'exec:'],
  ];
  for (const [check, form] of examples) {
    t.equal(parseCheck(check).ok, true, check);
    for (const key of ['birthDeps', 'readyCheck'] as const)
      t.ok(specOf(key).description.includes(form), `--${specOf(key).flag} names ${form}`);
  }
});

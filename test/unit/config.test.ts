import t from 'tap';
import { ConfigError, parseConfig } from '../../src/core/model/config.ts';
import type { OptionKey, RawOptions } from '../../src/core/model/options.ts';

/** Raw options as if every value came from its environment variable. */
function raw(values: Partial<Record<OptionKey, string>>, command = ['app']): RawOptions {
  const entries = Object.entries(values).map(([key, value]) => [
    key,
    { value, source: `KUBEXIT_${key.toUpperCase()}` },
  ]);
  return { values: Object.fromEntries(entries), command };
}

function problemsOf(options: RawOptions): string[] {
  try {
    parseConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

t.test('applies kubexit defaults', async (t) => {
  const config = parseConfig(raw({ name: 'main' }, ['app', '-v', '--fail']));
  t.match(config, {
    name: 'main',
    graveyard: '/graveyard',
    birthDeps: [],
    deathDeps: [],
    birthTimeoutMs: 30_000,
    gracePeriodMs: 30_000,
    ignoreCodeOnDeathDeps: true,
    deathDepsPolicy: 'any',
    stopSignal: 'SIGTERM',
    logLevel: 'info',
    logFormat: 'text',
    watch: 'auto',
    pollIntervalMs: 100,
    command: 'app',
    args: ['-v', '--fail'],
  });
});

t.test('trims list entries, so "a, b" means a and b', async (t) => {
  const config = parseConfig(
    raw({ name: 'main', birthDeps: ' queue , proxy', deathDeps: 'x,y ,x' }),
  );
  t.same(config.birthDeps, ['queue', 'proxy']);
  t.same(config.deathDeps, ['x', 'y']);
});

t.test('accepts Go booleans and durations', async (t) => {
  const config = parseConfig(
    raw({ name: 'm', ignoreCodeOnDeathDeps: 'FALSE', gracePeriod: '1m30s', birthTimeout: '2.5' }),
  );
  t.equal(config.ignoreCodeOnDeathDeps, false);
  t.equal(config.gracePeriodMs, 90_000);
  t.equal(config.birthTimeoutMs, 2_500);
});

t.test('an empty variable means the default', async (t) => {
  const config = parseConfig(raw({ name: 'm', graveyard: '', gracePeriod: '' }));
  t.equal(config.graveyard, '/graveyard');
  t.equal(config.gracePeriodMs, 30_000);
});

t.test('reports a missing name and a missing command', async (t) => {
  const problems = problemsOf(raw({}, []));
  t.match(problems, [/KUBEXIT_NAME \(or --name\) is required/, /no command given/]);
});

t.test('rejects names that are not one safe file name', async (t) => {
  for (const name of ['../etc/passwd', 'a/b', '.hidden', 'has space', 'x'.repeat(300), '-dash']) {
    const problems = problemsOf(raw({ name }));
    t.equal(problems.length, 1, name);
    t.match(problems[0], /is not a valid container name/, name);
  }
  t.match(problemsOf(raw({ name: 'm', deathDeps: 'ok,../up' })), [/lists "..\/up"/]);
});

t.test('rejects empty list entries, naming their position', async (t) => {
  t.match(problemsOf(raw({ name: 'm', birthDeps: 'a,,b' })), [/empty entry at position 2/]);
  t.match(problemsOf(raw({ name: 'm', deathDeps: 'a,' })), [/empty entry at position 2/]);
});

t.test('a container cannot depend on itself', async (t) => {
  t.match(problemsOf(raw({ name: 'm', birthDeps: 'm' })), [/can't depend on itself/]);
  t.match(problemsOf(raw({ name: 'm', deathDeps: 'a, m' })), [/can't depend on itself/]);
});

t.test(
  'rejects bad durations, signals, booleans and choices, naming source and value',
  async (t) => {
    const problems = problemsOf(
      raw({
        name: 'm',
        birthTimeout: '0',
        readyTimeout: '0',
        gracePeriod: '30 seconds',
        stopSignal: 'SIGNOPE',
        ignoreCodeOnDeathDeps: 'yes',
        deathDepsPolicy: 'some',
        logLevel: 'loud',
        logFormat: 'xml',
        watch: 'never',
        pollInterval: '-1s',
        graveyard: 'relative/dir',
      }),
    );
    t.match(problems.join('\n'), /KUBEXIT_READYTIMEOUT="0" must be greater than zero/);
    t.notMatch(
      problems.join('\n'),
      /BIRTHTIMEOUT/,
      "kubexit's 0 is accepted with kubexit's meaning",
    );
    t.match(problems.join('\n'), /KUBEXIT_GRACEPERIOD="30 seconds" is not a duration such as 30s/);
    t.match(problems.join('\n'), /"SIGNOPE" is not a Linux signal/);
    t.match(problems.join('\n'), /"yes" is not a boolean: use true, false, 1 or 0/);
    t.match(problems.join('\n'), /"some" is not one of: any, all/);
    t.match(problems.join('\n'), /"loud" is not one of: debug, info, warn, error/);
    t.match(problems.join('\n'), /"xml" is not one of: text, json/);
    t.match(problems.join('\n'), /"never" is not one of: auto, poll/);
    t.match(problems.join('\n'), /"-1s" must be greater than zero/);
    t.match(problems.join('\n'), /"relative\/dir" must be an absolute path/);
    t.equal(problems.length, 10);
  },
);

t.test(
  'the error keeps the valid settings the ending needs: tombstone, shutdown calls, logs',
  async (t) => {
    try {
      parseConfig(
        raw({
          name: 'main',
          graveyard: '/tmp/g',
          gracePeriod: 'soon',
          shutdownUrls: 'istio',
          logFormat: 'json',
          logLevel: 'loud',
        }),
      );
      t.fail('should throw');
    } catch (error) {
      t.type(error, ConfigError);
      t.match(error, { exitCode: 2, containerName: 'main' });
      t.match((error as ConfigError).known, {
        name: 'main',
        graveyard: '/tmp/g',
        shutdownUrls: ['http://127.0.0.1:15020/quitquitquit'],
        shutdownTimeoutMs: 10_000,
        logFormat: 'json',
        logLevel: undefined,
      });
    }
  },
);

t.test(
  'a command-line problem is reported with the others, and the command is not required',
  async (t) => {
    try {
      parseConfig(raw({ name: 'main', gracePeriod: 'soon' }, []), "unknown option '--bogus'");
      t.fail('should throw');
    } catch (error) {
      t.same((error as ConfigError).problems.length, 2);
      t.match((error as ConfigError).problems[0], /unknown option/);
      t.notMatch((error as ConfigError).message, /no command given/);
    }
  },
);

t.test(
  'a file check with a malformed %-escape is a configuration problem, not a crash',
  async (t) => {
    const problems = problemsOf(raw({ name: 'main', birthDeps: 'file:///%ff', shutdownUrls: 'x' }));
    t.match(problems[0], /file:\/\/\/%ff.*invalid %-escape/);
  },
);

t.test('birth dependencies mix container names and endpoint checks', async (t) => {
  const config = parseConfig(
    raw({ name: 'main', birthDeps: 'server, tcp://localhost:9000, file:///shared/users.txt' }),
  );
  t.same(config.birthDeps, ['server']);
  t.match(config.birthChecks, [
    { kind: 'tcp', port: 9000 },
    { kind: 'file', path: '/shared/users.txt' },
  ]);
});

t.test('a bad endpoint in the birth dependencies is a configuration error naming it', async (t) => {
  t.match(problemsOf(raw({ name: 'm', birthDeps: 'a, tcp://nohost' })), [
    /lists "tcp:\/\/nohost", which needs a host and a port/,
  ]);
  t.match(problemsOf(raw({ name: 'm', readyCheck: 'gopher://x' })), [/unsupported scheme/]);
});

t.test('ready check headers go with an http(s) ready check, and only with one', async (t) => {
  const config = parseConfig(
    raw({
      name: 'm',
      readyCheck: 'https+insecure://localhost:8443/ready',
      readyCheckHeaders: 'X-Probe: kubexit\nHost: gateway',
    }),
  );
  t.match(config.readyCheck, {
    kind: 'http',
    insecure: true,
    headers: [
      ['X-Probe', 'kubexit'],
      ['Host', 'gateway'],
    ],
  });
  t.match(problemsOf(raw({ name: 'm', readyCheckHeaders: 'X-Probe: kubexit' })), [
    /KUBEXIT_READYCHECKHEADERS.*needs an http:\/\/ or https:\/\/ ready check/,
  ]);
  t.match(
    problemsOf(raw({ name: 'm', readyCheck: 'tcp://localhost:1', readyCheckHeaders: 'A: b' })),
    [/needs an http/],
  );
  t.match(
    problemsOf(raw({ name: 'm', readyCheck: 'http://localhost/', readyCheckHeaders: 'oops' })),
    [/is not "Name: value"/],
  );
});

t.test('shutdown URLs accept presets and URLs, nothing else', async (t) => {
  const config = parseConfig(
    raw({ name: 'm', shutdownUrls: 'istio, Linkerd, cloudsql, dapr, http://localhost:8080/quit' }),
  );
  t.same(config.shutdownUrls, [
    'http://127.0.0.1:15020/quitquitquit',
    'http://localhost:4191/shutdown',
    'http://localhost:9091/quitquitquit',
    'http://localhost:3500/v1.0/shutdown',
    'http://localhost:8080/quit',
  ]);
  t.match(problemsOf(raw({ name: 'm', shutdownUrls: 'envoy' })), [
    /"envoy", which is neither an http\(s\):\/\/ URL nor a preset \(istio, linkerd, cloudsql, dapr\)/,
  ]);
  t.match(problemsOf(raw({ name: 'm', shutdownUrls: 'tcp://x:1' })), [/neither an http/]);
});

t.test('readiness and shutdown defaults', async (t) => {
  const config = parseConfig(raw({ name: 'm' }));
  t.match(config, {
    readyCheck: undefined,
    readyIntervalMs: 500,
    readyTimeoutMs: 2000,
    shutdownUrls: [],
    shutdownOnSuccessOnly: false,
    shutdownTimeoutMs: 10_000,
    podName: undefined,
    namespace: undefined,
  });
});

t.test('booleans are true, false (any case), 1 or 0; nothing else', async (t) => {
  for (const [word, value] of [
    ['TRUE', true],
    ['1', true],
    ['False', false],
    ['0', false],
  ] as const) {
    t.equal(
      parseConfig(raw({ name: 'm', shutdownOnSuccessOnly: word })).shutdownOnSuccessOnly,
      value,
    );
  }
  for (const word of ['t', 'f', 'yes', 'on']) {
    t.throws(
      () => parseConfig(raw({ name: 'm', shutdownOnSuccessOnly: word })),
      /is not a boolean/,
    );
  }
});

t.test(
  'SIGSTOP is refused as the stop signal: it freezes the command instead of stopping it',
  async (t) => {
    const problems = problemsOf(raw({ name: 'm', stopSignal: 'SIGSTOP' }));
    t.match(
      problems.join('\n'),
      /"SIGSTOP" freezes the command instead of stopping it: use SIGTERM/,
    );
    t.same(problemsOf(raw({ name: 'm', stopSignal: 'SIGQUIT' })), []);
  },
);

t.test("the restart policy is Kubernetes' word, in any case", async (t) => {
  t.same(problemsOf(raw({ name: 'm', restartPolicy: 'onfailure' })), []);
  t.match(
    problemsOf(raw({ name: 'm', restartPolicy: 'Sometimes' })).join('\n'),
    /"Sometimes" is not one of: Never, OnFailure, Always/,
  );
});

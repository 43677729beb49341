import { chmodSync, closeSync, copyFileSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  Container,
  KUBEXIT_BIN,
  LONG_RUNNING,
  startContainer,
  tombstoneMatching,
  tombstoneText,
} from '../helpers/kubexit.ts';

t.test("the child's own exit code, in the exit status and the tombstone", async (t) => {
  const graveyard = t.testdir();
  for (const code of [0, 1, 42, 255]) {
    const ended = await startContainer(graveyard, `c${code}`, ['sh', '-c', `exit ${code}`])
      .finished;
    t.equal(ended.code, code);
    t.match(tombstoneText(graveyard, `c${code}`), new RegExp(`ExitCode: ${code}\\n`));
  }
});

t.test('a child killed by signal N exits 128+N', async (t) => {
  const graveyard = t.testdir();
  const ended = await startContainer(graveyard, 'c', ['sh', '-c', 'kill -KILL $$']).finished;
  t.equal(ended.code, 137);
  t.match(ended.stderr, /child was killed by SIGKILL \(exit 137\)/);
  t.match(tombstoneText(graveyard, 'c'), /ExitCode: 137\nSignal: "SIGKILL"/);
});

t.test('command not found exits 127 with a tombstone, so dependents stop', async (t) => {
  const graveyard = t.testdir();
  const sidecar = startContainer(graveyard, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
  await tombstoneMatching(graveyard, 'side', /Born/);
  const ended = await startContainer(graveyard, 'main', ['kubexit-no-such-command', '--x'])
    .finished;
  t.equal(ended.code, 127);
  t.match(ended.stderr, /command not found: kubexit-no-such-command \(check the name and PATH/);
  t.match(tombstoneText(graveyard, 'main'), /ExitCode: 127\nReason: "spawn-failed"/);
  t.equal((await sidecar.finished).code, 0);
});

t.test('a command that is not executable exits 126', async (t) => {
  const graveyard = t.testdir({ script: '#!/bin/sh\necho hi\n' });
  chmodSync(join(graveyard, 'script'), 0o644);
  const ended = await startContainer(graveyard, 'main', [join(graveyard, 'script')]).finished;
  t.equal(ended.code, 126);
  t.match(
    ended.stderr,
    /command not executable: .*script \(EACCES; make sure it is an executable file/,
  );
});

t.test(
  'every other spawn failure is 126, as the shell says, with reason spawn-failed and the cause named',
  async (t) => {
    const dir = t.testdir({ file: 'x', busy: '' });
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    // A binary still open for writing, as one being copied into a volume: ETXTBSY.
    copyFileSync('/bin/true', join(dir, 'busy'));
    chmodSync(join(dir, 'busy'), 0o755);
    const writer = openSync(join(dir, 'busy'), 'r+');
    t.teardown(() => closeSync(writer));
    const cases: Array<[string, string, RegExp]> = [
      ['ETXTBSY', join(dir, 'busy'), /it is being written: wait until it is complete/],
      ['ENOTDIR', join(dir, 'file', 'sub'), /a part of the path is not a directory/],
      ['ELOOP', join(dir, 'loop-a'), /symbolic links loop/],
      ['ENAMETOOLONG', join(dir, 'n'.repeat(300)), /the name is too long/],
    ];
    for (const [code, command, cause] of cases) {
      const graveyard = join(dir, `graveyard-${code}`);
      const ended = await startContainer(graveyard, 'main', [command]).finished;
      t.equal(ended.code, 126, code);
      t.match(ended.stderr, new RegExp(`could not start .* \\(${code}: `), code);
      t.match(ended.stderr, cause, code);
      t.notMatch(ended.stderr, /internal error/, code);
      t.match(tombstoneText(graveyard, 'main'), /ExitCode: 126\nReason: "spawn-failed"/, code);
    }
  },
);

t.test(
  'configuration errors exit 2, list every problem, and still leave a tombstone',
  async (t) => {
    const graveyard = t.testdir();
    const sidecar = startContainer(graveyard, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
    await tombstoneMatching(graveyard, 'side', /Born/);
    const bad = startContainer(graveyard, 'main', ['true'], {
      KUBEXIT_GRACE_PERIOD: '30 s',
      KUBEXIT_BIRTH_DEPS: 'a,,b',
    });
    const ended = await bad.finished;
    t.equal(ended.code, 2);
    t.match(ended.stderr, /KUBEXIT_BIRTH_DEPS="a,,b" has an empty entry at position 2/);
    t.match(ended.stderr, /KUBEXIT_GRACE_PERIOD="30 s" is not a duration/);
    t.match(tombstoneText(graveyard, 'main'), /ExitCode: 2\nReason: "config-error"/);
    t.equal((await sidecar.finished).code, 0, 'the dependent does not wait forever');
  },
);

t.test('a missing name or command exits 2 with usage help', async (t) => {
  const graveyard = t.testdir();
  const noName = await new Container(['true'], { KUBEXIT_GRAVEYARD: graveyard, KUBEXIT_NAME: '' })
    .finished;
  t.equal(noName.code, 2);
  t.match(noName.stderr, /KUBEXIT_NAME \(or --name\) is required/);
  const noCommand = await startContainer(graveyard, 'main', []).finished;
  t.equal(noCommand.code, 2);
  t.match(noCommand.stderr, /no command given: usage is kubexit \[options\] \[--\] <command>/);
});

t.test('an unsafe name never writes outside the graveyard', async (t) => {
  const root = t.testdir({ graveyard: {} });
  const ended = await startContainer(join(root, 'graveyard'), '../escape', ['true']).finished;
  t.equal(ended.code, 2);
  t.match(ended.stderr, /KUBEXIT_NAME="..\/escape" is not a valid container name/);
  t.equal(tombstoneText(root, 'escape'), '');
});

t.test('options end at the command: its own flags are passed through untouched', async (t) => {
  const graveyard = t.testdir();
  const ended = await startContainer(graveyard, 'main', [
    '--grace-period',
    '1s',
    'printf',
    '%s,',
    '-v',
    '--fail',
    '--name',
    'x',
  ]).finished;
  t.equal(ended.code, 0);
  t.equal(ended.stdout, '-v,--fail,--name,x,');
  const dashed = await startContainer(graveyard, 'main', ['--', 'sh', '-c', 'echo "$0"', '--help'])
    .finished;
  t.equal(dashed.stdout, '--help\n');
});

t.test('flags win over environment variables', async (t) => {
  const graveyard = t.testdir();
  const ended = await startContainer(graveyard, 'env-name', ['--name', 'flag-name', 'true'])
    .finished;
  t.equal(ended.code, 0);
  t.match(tombstoneText(graveyard, 'flag-name'), /ExitCode: 0/);
  t.equal(tombstoneText(graveyard, 'env-name'), '');
});

t.test(
  'a misspelt KUBEXIT_ variable is warned about, naming the variable it resembles',
  async (t) => {
    const graveyard = t.testdir();
    const ended = await startContainer(graveyard, 'main', ['true'], { KUBEXIT_BIRTH_DEP: 'queue' })
      .finished;
    t.equal(ended.code, 0);
    t.match(
      ended.stderr,
      /warn: unknown variable KUBEXIT_BIRTH_DEP is ignored: did you mean KUBEXIT_BIRTH_DEPS\?/,
    );
  },
);

t.test(
  'run with nothing at all, kubexit prints its usage, then what is missing; exit 2',
  async (t) => {
    const ended = await new Container([], {}).finished;
    t.equal(ended.code, 2);
    t.match(ended.stderr, /^Usage: kubexit \[options\]/);
    t.match(ended.stderr, /KUBEXIT_NAME \(or --name\) is required/);
  },
);

t.test(
  'a name that cannot be a Kubernetes container name is warned about, and works',
  async (t) => {
    const graveyard = t.testdir();
    const ended = await startContainer(graveyard, 'Main_1', ['true']).finished;
    t.equal(ended.code, 0);
    t.match(ended.stderr, /warn: KUBEXIT_NAME "Main_1" can't be a Kubernetes container name/);
    t.match(tombstoneText(graveyard, 'Main_1'), /ExitCode: 0/);
  },
);

t.test('an unknown option exits 2 and says options go before the command', async (t) => {
  const graveyard = t.testdir();
  const ended = await startContainer(graveyard, 'main', ['--grace', '1s', 'true']).finished;
  t.equal(ended.code, 2);
  t.match(ended.stderr, /unknown option '--grace'.*options come before the command/);
  t.match(tombstoneText(graveyard, 'main'), /ExitCode: 2/);
});

t.test('--help and --version print to stdout and exit 0', async (t) => {
  const help = await new Container(['--help'], {}).finished;
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: kubexit \[options\] \[--\] <command> \[args\.\.\.\]/);
  t.match(help.stdout, /KUBEXIT_BIRTH_DEPS/);
  t.match(help.stdout, /Exit codes:/);
  const version = await new Container(['--version'], {}).finished;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  t.equal(version.stdout.trim(), pkg.version);
  t.equal(version.code, 0);
});

t.test('json logs: one object per line on stderr', async (t) => {
  const graveyard = t.testdir();
  const ended = await startContainer(graveyard, 'main', ['true'], {
    KUBEXIT_LOG_FORMAT: 'json',
    KUBEXIT_LOG_LEVEL: 'info',
  }).finished;
  const records = ended.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.match(records, [
    {
      level: 'info',
      name: 'main',
      msg: /^true \(as main, graveyard .*\) starts at once; ends when it exits$/,
    },
    { level: 'info', name: 'main', msg: /started true/, pid: Number },
    { level: 'info', name: 'main', msg: 'child exited with code 0', exitCode: 0, reason: 'exited' },
  ]);
});

t.test('a normal lifecycle logs a handful of lines at the default level', async (t) => {
  const graveyard = t.testdir();
  const side = startContainer(graveyard, 'side', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_LOG_LEVEL: 'info',
  });
  await tombstoneMatching(graveyard, 'side', /Born/);
  await startContainer(graveyard, 'main', ['true']).finished;
  const ended = await side.finished;
  const lines = ended.stderr.trim().split('\n');
  t.ok(lines.length <= 4, `${lines.length} lines:\n${ended.stderr}`);
  t.ok(lines.every((line) => line.startsWith('kubexit[side]: ')));
});

// A single executable doesn't load NODE_OPTIONS --import modules, so there is nothing to inject.
const injectable = KUBEXIT_BIN.endsWith('.js')
  ? false
  : 'a single executable ignores NODE_OPTIONS --import';

t.test(
  'a stray error thrown inside kubexit while the child runs is logged, and the truth still told',
  { skip: injectable },
  async (t) => {
    const graveyard = t.testdir();
    // Injected before kubexit loads: a timer that throws while the child is running.
    // (NODE_OPTIONS splits on spaces, so the module has none.)
    const inject = `data:text/javascript,setTimeout(()=>{throw(Error('stray-boom'))},600)`;
    const main = startContainer(graveyard, 'main', ['sh', '-c', 'sleep 1.5; exit 6'], {
      NODE_OPTIONS: `--import=${inject}`,
    });
    const ended = await main.finished;
    t.match(
      ended.stderr,
      /unexpected error \(kubexit keeps supervising; please report it\): Error: stray-boom/,
    );
    t.equal(ended.code, 6);
    t.match(tombstoneText(graveyard, 'main'), /ExitCode: 6/);
  },
);

t.test(
  "the container's NODE_OPTIONS reaches the command, never kubexit itself",
  {
    skip: KUBEXIT_BIN.endsWith('.js') ? 'from the sources, Node itself reads NODE_OPTIONS' : false,
  },
  async (t) => {
    const graveyard = t.testdir();
    // Each of these would hurt a supervisor that read them: no heap, a missing hook.
    const options = '--max-old-space-size=1 --require /nonexistent-hook.js';
    const main = startContainer(graveyard, 'main', ['sh', '-c', 'echo "child: $NODE_OPTIONS"'], {
      NODE_OPTIONS: options,
    });
    const ended = await main.finished;
    t.equal(ended.code, 0, ended.stderr);
    // (tap adds its own hook to NODE_OPTIONS of every process it starts, quoting the rest.)
    t.match(ended.stdout, /^child: .*max-old-space-size=1.*--require.*nonexistent-hook\.js/);
    t.match(tombstoneText(graveyard, 'main'), /ExitCode: 0/);
  },
);

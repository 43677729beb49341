import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  Container,
  LONG_RUNNING,
  startContainer,
  tombstoneMatching,
  tombstoneText,
} from '../helpers/kubexit.ts';

const KUBEXIT_DIED =
  'Born: "2020-04-28T10:41:46.9926314Z"\nDied: "2020-04-28T10:41:47.0498724Z"\nExitCode: 0\n';

/** Replaces a graveyard entry atomically, as a well-behaved writer would. */
function put(dir: string, name: string, content: string): void {
  writeFileSync(join(dir, `.tmp-${name}`), content);
  execFileSync('mv', ['-f', join(dir, `.tmp-${name}`), join(dir, name)]);
}

t.test(
  'garbage, symlinked, FIFO and huge tombstones are skipped with one warning each; a later valid one counts',
  async (t) => {
    const dir = t.testdir({ elsewhere: KUBEXIT_DIED });
    const side = startContainer(dir, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
    await tombstoneMatching(dir, 'side', /Born/);
    for (let i = 0; i < 5; i++) put(dir, 'main', `{{{ garbage ${i % 2}`);
    await side.logged(/ignoring tombstone .*\/main: it is not valid YAML/);
    rmSync(join(dir, 'main'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'main'));
    await side.logged(/ignoring tombstone .*\/main: it is a symbolic link/);
    rmSync(join(dir, 'main'));
    execFileSync('mkfifo', [join(dir, 'main')]);
    await side.logged(/ignoring tombstone .*\/main: it is not a regular file/);
    rmSync(join(dir, 'main'));
    put(dir, 'main', `${KUBEXIT_DIED}#${'x'.repeat(100_000)}\n`);
    await side.logged(/ignoring tombstone .*\/main: it is larger than 4096 bytes/);
    put(dir, 'main', KUBEXIT_DIED);
    const ended = await side.finished;
    t.equal(ended.code, 0, 'the valid tombstone stopped the sidecar');
    t.equal(ended.stderr.match(/not valid YAML/g)?.length, 1, 'one warning for repeated garbage');
    t.match(ended.stderr, /tombstone of "main" is valid again/);
  },
);

t.test(
  "a symlink planted at this container's name is replaced, and its target untouched",
  async (t) => {
    const dir = t.testdir({ victim: 'precious\n', graveyard: {} });
    const graveyard = join(dir, 'graveyard');
    symlinkSync(join(dir, 'victim'), join(graveyard, 'main'));
    t.equal((await startContainer(graveyard, 'main', ['true']).finished).code, 0);
    t.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'precious\n');
    t.ok(lstatSync(join(graveyard, 'main')).isFile());
  },
);

t.test('tombstones written by kubexit are read: Born only is alive, Died is dead', async (t) => {
  const dir = t.testdir();
  const main = startContainer(dir, 'main', ['true'], { KUBEXIT_BIRTH_DEPS: 'legacy' });
  const side = startContainer(dir, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'legacy' });
  await main.logged(/waiting for birth dependencies: legacy/);
  await tombstoneMatching(dir, 'side', /Born/);
  // kubexit truncates and writes in place; do the same.
  writeFileSync(join(dir, 'legacy'), 'Born: "2020-04-28T10:41:46.9926314Z"\n');
  t.equal((await main.finished).code, 0, 'born counts for the birth dependency');
  writeFileSync(join(dir, 'legacy'), KUBEXIT_DIED);
  t.equal((await side.finished).code, 0, 'died counts for the death dependency');
});

t.test('our tombstones are in the form kubexit reads', async (t) => {
  const dir = t.testdir();
  await startContainer(dir, 'main', ['sh', '-c', 'exit 5']).finished;
  const text = tombstoneText(dir, 'main');
  t.match(
    text,
    /^Born: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"\nReady: "[^"]+"\nDied: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"\nExitCode: 5\n/,
  );
});

t.test('polling mode, when asked for, sees deaths', async (t) => {
  const dir = t.testdir();
  const side = startContainer(dir, 'side', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_WATCH: 'poll',
    KUBEXIT_POLL_INTERVAL: '50ms',
  });
  await side.logged(/watching main in .* by polling every 50ms/);
  await tombstoneMatching(dir, 'side', /Born/);
  await startContainer(dir, 'main', ['true']).finished;
  t.equal((await side.finished).code, 0);
});

const userNamespaces =
  spawnSync('unshare', [
    '--user',
    '--map-root-user',
    'sh',
    '-c',
    'echo 0 > /proc/sys/user/max_inotify_instances',
  ]).status === 0;

t.test(
  'with inotify exhausted, the supervisor falls back to polling and still sees deaths',
  {
    skip: userNamespaces
      ? false
      : 'user namespaces with their own inotify limit are not available here',
  },
  async (t) => {
    const dir = t.testdir();
    // A user namespace with no inotify instances left: the real EMFILE, not a simulation.
    const launcher = [
      'unshare',
      '--user',
      '--map-root-user',
      'sh',
      '-c',
      'echo 0 > /proc/sys/user/max_inotify_instances && exec "$@"',
      'sh',
    ];
    const side = new Container(
      LONG_RUNNING,
      {
        KUBEXIT_NAME: 'side',
        KUBEXIT_GRAVEYARD: dir,
        KUBEXIT_DEATH_DEPS: 'main',
        KUBEXIT_POLL_INTERVAL: '50ms',
      },
      launcher,
    );
    await side.logged(
      /inotify is unavailable \(EMFILE\); polling the dependencies' tombstones every 50ms/,
    );
    await tombstoneMatching(dir, 'side', /Born/);
    await startContainer(dir, 'main', ['true']).finished;
    t.equal((await side.finished).code, 0);
  },
);

t.test('a missing graveyard is created', async (t) => {
  const dir = join(t.testdir(), 'not', 'yet');
  t.equal((await startContainer(dir, 'main', ['true']).finished).code, 0);
  t.match(tombstoneText(dir, 'main'), /ExitCode: 0/);
});

t.test('a graveyard that is a file fails before starting the child, exit 2', async (t) => {
  const dir = t.testdir({ file: 'x' });
  const marker = join(dir, 'started');
  const ended = await startContainer(join(dir, 'file'), 'main', ['touch', marker]).finished;
  t.equal(ended.code, 2);
  t.match(
    ended.stderr,
    /graveyard .*file is not a directory; point KUBEXIT_GRAVEYARD at the shared emptyDir/,
  );
  t.throws(() => readFileSync(marker), 'the child never ran');
});

const mountNamespaces = spawnSync('unshare', ['--mount', 'true']).status === 0;

t.test(
  'a read-only graveyard fails before starting the child, exit 2, naming the fix',
  { skip: mountNamespaces ? false : 'unshare --mount is not permitted here' },
  async (t) => {
    const dir = t.testdir({ graveyard: {} });
    const marker = join(dir, 'started');
    const graveyard = join(dir, 'graveyard');
    const launcher = [
      'unshare',
      '--mount',
      'sh',
      '-c',
      `mount -t tmpfs -o ro tmpfs ${graveyard} && exec "$@"`,
      'sh',
    ];
    const main = new Container(
      ['touch', marker],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard },
      launcher,
    );
    const ended = await main.finished;
    t.equal(ended.code, 2);
    t.match(ended.stderr, /graveyard .* is not writable \(EROFS\): mount a writable volume/);
    t.match(ended.stderr, /could not write the final tombstone/);
    t.throws(() => readFileSync(marker), 'the child never ran');
  },
);

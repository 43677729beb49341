import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  Container,
  LONG_RUNNING,
  startContainer,
  tombstoneMatching,
  tombstoneText,
} from '../helpers/kubexit.ts';
import { isLive, waitFor } from '../helpers/wait.ts';

/*
 * Faults that used to leave a Job hanging forever or ending without the truth, each reproduced
 * for real: processes killed with SIGKILL, a full tmpfs, an overflowed inotify queue, a crowded
 * graveyard, a process that ignores the stop signal.
 */

const root = process.getuid?.() === 0;
const mountNamespaces = root && spawnSync('unshare', ['--mount', 'true']).status === 0;

/** The child's pid, from the supervisor's "started … (pid N)" line. */
async function childPid(container: Container): Promise<number> {
  await container.logged(/started .* \(pid \d+\)/);
  return Number(/started .* \(pid (\d+)\)/.exec(container.stderr)?.[1]);
}

/** A process and all its descendants, from /proc. */
function treeOf(pid: number): number[] {
  let children: number[] = [];
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    children = text === '' ? [] : text.split(' ').map(Number);
  } catch {
    // Already gone.
  }
  return [pid, ...children.flatMap(treeOf)];
}

/**
 * An OOM kill of a container: every process in it gets SIGKILL at once — kubexit (its native
 * front and Node, when built), the command and its whole group.
 */
function killContainer(supervisorPid: number, childGroup: number): void {
  const all = treeOf(supervisorPid);
  for (const pid of all) process.kill(pid, 'SIGKILL');
  process.kill(-childGroup, 'SIGKILL');
}

t.test(
  'a container killed from outside (SIGKILL, no tombstone) still ends its dependents, and those that start later',
  async (t) => {
    const dir = t.testdir();
    const main = startContainer(dir, 'main', LONG_RUNNING);
    const group = await childPid(main);
    const side = startContainer(dir, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
    const waiter = startContainer(dir, 'waiter', ['true'], {
      KUBEXIT_BIRTH_DEPS: 'main,never',
      KUBEXIT_DEATH_DEPS: 'main',
      KUBEXIT_BIRTH_TIMEOUT: '5m',
    });
    await tombstoneMatching(dir, 'side', /Born/);
    await waiter.logged(/waiting for birth dependencies/);
    t.match(tombstoneText(dir, 'main'), /Liveness: "socket"/);
    killContainer(main.process.pid as number, group);
    await main.finished;
    t.notMatch(tombstoneText(dir, 'main'), /Died/, 'the killed supervisor wrote nothing');
    const ended = await side.finished;
    t.equal(ended.code, 0, 'the sidecar was stopped, as for any death');
    t.match(ended.stderr, /the supervisor of "main" is gone without writing its death/);
    t.match(ended.stderr, /death dependency "main" \(lost: its supervisor is gone\) died/);
    const waited = await waiter.finished;
    t.equal(waited.code, 0, 'a death during the birth wait ends the wait');
    t.match(waited.stderr, /already died: not starting the command/);
    const late = await startContainer(dir, 'late', ['touch', join(dir, 'ran')], {
      KUBEXIT_DEATH_DEPS: 'main',
    }).finished;
    t.equal(late.code, 0, 'a dependent that starts after the loss sees it too');
    t.match(late.stderr, /the supervisor of "main" is gone/);
    t.equal(tombstoneText(dir, 'ran'), '', 'its command never ran');
  },
);

t.test('a supervisor that ends normally is never mistaken for a lost one', async (t) => {
  const dir = t.testdir();
  const side = startContainer(dir, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
  await tombstoneMatching(dir, 'side', /Born/);
  await startContainer(dir, 'main', ['sh', '-c', 'exit 3']).finished;
  const ended = await side.finished;
  t.equal(ended.code, 0);
  t.match(ended.stderr, /death dependency "main" \(exit 3\) died/);
  t.notMatch(ended.stderr, /is gone/);
});

t.test(
  'disk full at death: the final tombstone still reaches a full tmpfs, with the true code',
  { skip: mountNamespaces ? false : 'needs root and mount namespaces (tmpfs)' },
  async (t) => {
    const dir = t.testdir({ graveyard: {} });
    const graveyard = join(dir, 'graveyard');
    // The child fills the volume to the last byte, then fails with 3: the final record must land.
    // (How full it was is measured by the child, at the moment it dies.)
    const fill = `dd if=/dev/zero of=${graveyard}/filler bs=1k 2>/dev/null; echo "free: $(df -k ${graveyard} | awk 'NR==2 {print $4}')"; exit 3`;
    const script = [
      `mount -t tmpfs -o size=256k tmpfs ${graveyard}`,
      '"$@"',
      'code=$?',
      `cat ${graveyard}/main`,
      'exit $code',
    ].join('; ');
    const main = new Container(
      ['sh', '-c', fill],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard },
      ['unshare', '--mount', 'sh', '-c', script, 'sh'],
    );
    const ended = await main.finished;
    t.equal(ended.code, 3, "kubexit exits with the child's code");
    t.match(ended.stdout, /free: 0\n/, 'the volume was really full');
    t.match(ended.stdout, /Died: ".+"\nExitCode: 3\nReason: "exited"/, 'the death is recorded');
    t.notMatch(ended.stderr, /could not write the final tombstone/);
  },
);

t.test(
  'a final tombstone that truly cannot be written is said loudly, and the exit code stays true',
  { skip: mountNamespaces ? false : 'needs root and mount namespaces (tmpfs)' },
  async (t) => {
    const dir = t.testdir({ graveyard: {} });
    const graveyard = join(dir, 'graveyard');
    const script = `mount -t tmpfs tmpfs ${graveyard} && exec "$@"`;
    const main = new Container(
      // Once the birth is recorded (no write in progress, which would make the remount busy).
      [
        'sh',
        '-c',
        `until grep -q Born ${graveyard}/main; do sleep 0.01; done; n=0; until mount -o remount,ro ${graveyard} || [ $n -gt 100 ]; do n=$((n+1)); sleep 0.05; done; exit 4`,
      ],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard },
      ['unshare', '--mount', 'sh', '-c', script, 'sh'],
    );
    const ended = await main.finished;
    t.equal(ended.code, 4);
    t.match(ended.stderr, /error: could not write the final tombstone.*EROFS.*true code 4/);
  },
);

t.test(
  'missed events: a death hidden by an overflowed inotify queue is still seen',
  { skip: process.platform === 'linux' ? false : 'inotify is Linux only' },
  async (t) => {
    const dir = t.testdir();
    const side = startContainer(dir, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
    await tombstoneMatching(dir, 'side', /Born/);
    await side.logged(/watching .* with inotify/);
    // While the sidecar's supervisor is stopped, more changes than the kernel queues for it
    // (fs.inotify.max_queued_events, 16384 by default) — then the death: its event is dropped.
    side.kill('SIGSTOP');
    const noise = join(dir, '.noise');
    for (let i = 0; i < 10_000; i++) {
      closeSync(openSync(noise, 'w'));
      unlinkSync(noise);
    }
    writeFileSync(
      join(dir, '.main'),
      'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:01Z"\nExitCode: 0\n',
    );
    spawnSync('mv', [join(dir, '.main'), join(dir, 'main')]);
    side.kill('SIGCONT');
    const ended = await side.finished;
    t.equal(ended.code, 0, 'the periodic re-read found the death');
    t.match(ended.stderr, /death dependency "main" \(exit 0\) died/);
  },
);

t.test(
  'polling sees a death in a graveyard crowded with 20,000 other files (the adapter test proves it looks only at the dependencies)',
  async (t) => {
    const dir = t.testdir();
    for (let i = 0; i < 20_000; i++) writeFileSync(join(dir, `other-${i}`), '');
    const side = startContainer(dir, 'side', LONG_RUNNING, {
      KUBEXIT_DEATH_DEPS: 'main',
      KUBEXIT_WATCH: 'poll',
      KUBEXIT_POLL_INTERVAL: '50ms',
    });
    await tombstoneMatching(dir, 'side', /Born/);
    await startContainer(dir, 'main', ['true']).finished;
    t.equal((await side.finished).code, 0);
  },
);

t.test('the grace period ends the whole group, even after its leader exited', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'stubborn');
  // The leader exits on SIGTERM; a member of its group ignores SIGTERM and would hold the
  // container forever if the grace SIGKILL were cancelled with the leader's exit.
  const child = [
    'sh',
    '-c',
    `(trap '' TERM; exec sleep 300) & echo $! > ${pidFile}; exec sleep 300`,
  ];
  const side = startContainer(dir, 'side', child, {
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_GRACE_PERIOD: '1s',
  });
  await tombstoneMatching(dir, 'side', /Born/);
  const stubborn = await waitFor(() => Number(tombstoneText(dir, 'stubborn')), 'the pid file');
  await startContainer(dir, 'main', ['true']).finished;
  const ended = await side.finished;
  t.equal(ended.code, 0);
  t.match(ended.stderr, /members of its process group remain/);
  t.match(ended.stderr, /sending SIGKILL/);
  await waitFor(() => !isLive(stubborn), 'the TERM-ignoring member to be killed');
});

t.test(
  'the graveyard removed while both run: the main ends without a tombstone, its sidecar still ends',
  async (t) => {
    const dir = join(t.testdir(), 'graveyard');
    const side = startContainer(dir, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
    await side.logged(/started sh/);
    const main = startContainer(dir, 'main', [
      'sh',
      '-c',
      'while [ -d "$0" ]; do sleep 0.05; done',
      dir,
    ]);
    await main.logged(/started sh/);
    await side.logged(/tombstone of "main" changed/);
    // A cleanup gone wrong: the whole graveyard, tombstones and sockets, removed under them.
    spawnSync('rm', ['-rf', dir]);
    const mainEnded = await main.finished;
    t.equal(mainEnded.code, 0, 'the main keeps its own code');
    t.match(mainEnded.stderr, /could not write the final tombstone/);
    const ended = await side.finished;
    t.equal(ended.code, 0, 'the sidecar stopped (exit 0) instead of running forever');
    t.match(ended.stderr, /the supervisor of "main" is gone without writing its death/);
  },
);

t.test(
  'a main short of file descriptors, with many dependents: none of them takes it for dead',
  {
    skip:
      spawnSync('prlimit', ['--version']).status === 0 ? false : 'prlimit (util-linux) is missing',
  },
  async (t) => {
    const dir = t.testdir();
    const marker = join(dir, 'release');
    // 32 descriptors: Node and kubexit take most; 16 dependents can't all be accepted.
    const main = new Container(
      ['sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.05; done', marker],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir, KUBEXIT_LOG_LEVEL: 'debug' },
      ['prlimit', '--nofile=32:32', '--'],
    );
    await main.logged(/started sh/);
    const sides = Array.from({ length: 16 }, (_, i) =>
      startContainer(dir, `side${i}`, LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' }),
    );
    t.teardown(() => {
      for (const side of sides) side.process.kill('SIGKILL');
    });
    await Promise.all(sides.map((side) => side.logged(/started sh/, 30_000)));
    // Each dependent tries its connection more than once while the main can't take them all.
    await Promise.all(sides.map((side) => side.logged(/tombstone of "main" changed/, 30_000)));
    // Their connections are answered (or dropped) within microseconds; one more supervisor's whole
    // start-up is far longer, so once it has started, every drop has happened.
    const late = startContainer(dir, 'late', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
    sides.push(late);
    await late.logged(/tombstone of "main" changed/, 30_000);
    writeFileSync(marker, '');
    const mainEnded = await main.finished;
    t.equal(mainEnded.code, 0);
    t.notMatch(mainEnded.stderr, /could not write/, 'its final tombstone was written all the same');
    for (const side of sides) {
      const ended = await side.finished;
      t.equal(ended.code, 0);
      t.notMatch(
        ended.stderr,
        /is gone without writing its death/,
        'the main was never taken for lost',
      );
      t.match(ended.stderr, /death dependency "main" \(exit 0\) died/);
    }
  },
);

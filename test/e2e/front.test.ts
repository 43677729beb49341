import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { EXEC_NODE, frontWithNode, kubexitWithFront } from '../helpers/front.ts';
import { Container, tombstoneText } from '../helpers/kubexit.ts';
import { scratchDir } from '../helpers/temp.ts';
import { isLive, waitFor } from '../helpers/wait.ts';

/*
 * The native front (native/front.c): signals are guarded from its first instruction, before Node
 * runs, and orphans are reaped when it is PID 1.
 */

const front = kubexitWithFront();

/** Whether a process blocks SIGTERM (the front does from its first instruction). */
function blocksTerm(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = /SigBlk:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0';
    return (BigInt(`0x${mask}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}
const noCompiler = spawnSync('cc', ['--version']).status !== 0 ? 'no C compiler (cc)' : false;
const pidNamespaces =
  spawnSync('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'true']).status === 0;

/** Runs kubexit through its front: `kubexit <args>` with the given environment. */
function run(args: readonly string[], env: Record<string, string>, launcher: string[] = []) {
  return new Container(args, env, [...launcher, front.path as string], { raw: true });
}

t.test(
  'a SIGTERM at any moment of start-up, even before Node runs, ends in 143 with a tombstone',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    // From the first instant to well after Node is up: each must be held, then handled.
    for (const [index, delayMs] of [0, 1, 2, 5, 10, 20, 40, 80, 160].entries()) {
      const name = `main-${index}`;
      const main = run(['sleep', '300'], {
        KUBEXIT_NAME: name,
        KUBEXIT_GRAVEYARD: dir,
        KUBEXIT_BIRTH_DEPS: 'never',
      });
      // From the moment the front blocks signals (its first instruction; before that the process
      // is still starting and the default action applies, for a few microseconds).
      const pid = main.process.pid as number;
      await waitFor(() => blocksTerm(pid), 'the front to guard signals', { intervalMs: 0 });
      setTimeout(() => main.kill('SIGTERM'), delayMs);
      const ended = await main.finished;
      t.equal(ended.code, 143, `SIGTERM after ${delayMs} ms: exit 143 (${ended.stderr})`);
      t.match(
        tombstoneText(dir, name),
        /ExitCode: 143\nSignal: "SIGTERM"\nReason: "signal-before-start"/,
      );
    }
  },
);

t.test(
  'the front passes the exit code through and never leaks its pipe to the command',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    const command = ['sh', '-c', 'env; ls /proc/self/fd; exit 7'];
    const env = { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir };
    const ended = await run(command, env).finished;
    t.equal(ended.code, 7);
    t.notMatch(ended.stdout, /KUBEXIT_READY_FD/, 'the command does not see the variable');
    const fds = (stdout: string) => stdout.split('\n').filter((line) => /^\d+$/.test(line));
    const without = await new Container(command, env).finished;
    t.same(fds(ended.stdout), fds(without.stdout), 'the same descriptors as without the front');
  },
);

t.test(
  'as PID 1, orphaned grandchildren are reaped: no zombies pile up',
  { skip: front.skip || (pidNamespaces ? false : 'unshare --pid --mount-proc needs root') },
  async (t) => {
    const dir = t.testdir();
    // 30 orphans: each inner shell exits at once, leaving its sleep to PID 1; then count zombies
    // until there are none or a deadline passes.
    const script = [
      'i=0; while [ $i -lt 30 ]; do sh -c "sleep 0.01 &"; i=$((i+1)); done',
      'n=0; while [ $n -lt 100 ]; do z=$(grep -l "^State:.Z" /proc/[0-9]*/status 2>/dev/null | wc -l); [ "$z" -eq 0 ] && break; n=$((n+1)); sleep 0.05; done',
      'echo "zombies $z"',
    ].join('; ');
    const ended = await run(
      ['sh', '-c', script],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir },
      ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc'],
    ).finished;
    t.equal(ended.code, 0, ended.stderr);
    t.match(ended.stdout, /zombies 0\n/);
  },
);

t.test(
  'a signal storm before Node is ready: a SIGTERM after 100 SIGUSR1 is never dropped',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    const go = join(dir, 'go');
    // Node starts only once the test says so: until then the front holds every signal.
    const late = frontWithNode(`while [ ! -e ${go} ]; do sleep 0.01; done; ${EXEC_NODE}`);
    const main = new Container(
      ['sleep', '300'],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir },
      [late.path as string],
      { raw: true },
    );
    const pid = main.process.pid as number;
    await waitFor(() => blocksTerm(pid), 'the front to guard signals', { intervalMs: 0 });
    // Paced, so that the front reads each one (the kernel merges a signal that is already pending).
    for (let i = 0; i < 100; i++) {
      main.kill('SIGUSR1');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    main.kill('SIGTERM');
    writeFileSync(go, '');
    const ended = await main.finished;
    t.equal(ended.code, 143, 'the SIGTERM was held and handled');
    t.match(tombstoneText(dir, 'main'), /Reason: "signal-before-start"/);
  },
);

t.test(
  'started with no stdin, stdout or stderr, the front takes none of them: the command keeps its code',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    for (const level of ['info', 'error']) {
      const name = `main-${level}`;
      const env = { KUBEXIT_NAME: name, KUBEXIT_GRAVEYARD: dir, KUBEXIT_LOG_LEVEL: level };
      const closed = ['sh', '-c', 'exec 0<&- 1>&- 2>&- "$@"', 'sh', front.path as string];
      const ended = await new Container(
        ['sh', '-c', 'echo out; echo err >&2; exit 3'],
        env,
        closed,
        { raw: true },
      ).finished;
      t.equal(ended.code, 3, `log level ${level}: the command's own code, no SIGPIPE`);
      t.match(tombstoneText(dir, name), /ExitCode: 3\n/);
    }
    // And a SIGTERM is still handled, at the quietest log level.
    const env = { KUBEXIT_NAME: 'term', KUBEXIT_GRAVEYARD: dir, KUBEXIT_LOG_LEVEL: 'error' };
    const closed = ['sh', '-c', 'exec 0<&- 1>&- 2>&- "$@"', 'sh', front.path as string];
    const main = new Container(['sleep', '300'], env, closed, { raw: true });
    await waitFor(() => /Born/.test(tombstoneText(dir, 'term')), 'the command to start');
    main.kill('SIGTERM');
    const ended = await main.finishedWithin(20_000, 'the SIGTERM to be handled');
    t.equal(ended.code, 143);
  },
);

t.test(
  'a Node that never says it is ready: a held SIGTERM is forwarded after a bound, and the front ends 143',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    const stuck = frontWithNode('exec sleep 300');
    const main = new Container(
      ['true'],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir },
      [stuck.path as string],
      { raw: true },
    );
    const pid = main.process.pid as number;
    await waitFor(() => blocksTerm(pid), 'the front to guard signals', { intervalMs: 0 });
    main.kill('SIGTERM');
    const ended = await main.finished;
    t.equal(ended.code, 143);
    t.match(
      ended.stderr,
      /Node did not say it was ready within 5 s: forwarding the signals it holds/,
    );
  },
);

t.test(
  'Node killed alone (not PID 1): the front says so and ends the command, exit 137',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    const main = run(['sleep', '300'], { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir });
    await waitFor(() => /Born/.test(tombstoneText(dir, 'main')), 'the command to start');
    const frontPid = main.process.pid as number;
    const node = Number(
      readFileSync(`/proc/${frontPid}/task/${frontPid}/children`, 'utf8').trim().split(' ')[0],
    );
    const command = Number(
      readFileSync(`/proc/${node}/task/${node}/children`, 'utf8').trim().split(' ')[0],
    );
    t.ok(isLive(command), 'the command runs');
    process.kill(node, 'SIGKILL');
    const ended = await main.finished;
    t.equal(ended.code, 137);
    t.match(ended.stderr, /kubexit: error: the supervisor \(Node\) was killed by signal 9/);
    t.notOk(isLive(command), 'the command did not outlive it');
  },
);

t.test(
  'Node killed alone, the command having a child in a session of its own: the front still ends, and so does that child',
  { skip: front.skip },
  async (t) => {
    const dir = t.testdir();
    const pidFile = join(dir, 'daemon.pid');
    // The daemon is the command's child but not in its group: only a later round reaches it.
    const script = `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`;
    const main = run(['sh', '-c', script], { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir });
    const daemon = await waitFor(() => {
      try {
        return Number(readFileSync(pidFile, 'utf8')) || undefined;
      } catch {
        return undefined;
      }
    }, 'the daemon to start');
    const frontPid = main.process.pid as number;
    const children = readFileSync(`/proc/${frontPid}/task/${frontPid}/children`, 'utf8');
    process.kill(Number(children.trim().split(' ')[0]), 'SIGKILL');
    const ended = await main.finishedWithin(20_000, 'the front to end');
    t.equal(ended.code, 137);
    t.notOk(isLive(daemon), 'the daemon did not outlive it');
  },
);

t.test(
  'the front holds the liveness socket Node asks for, and lets it go the moment Node dies',
  { skip: noCompiler },
  async (t) => {
    // Short: a socket's path must fit in 108 bytes, which tap's test directories don't.
    const socket = join(scratchDir('kx-live-'), '.main.sock');
    // A stand-in Node: says ready, asks for the socket, prints the answer, then waits.
    const standIn = frontWithNode(
      `fd=$KUBEXIT_READY_FD; printf R >&$fd; printf 'L%s\\n' "$SOCK" >&$fd; ` +
        `echo "answer=$(dd bs=1 count=1 <&$fd 2>/dev/null)"; exec sleep 300`,
    );
    const node = new Container([], { SOCK: socket }, [standIn.path as string], { raw: true });
    await waitFor(() => /answer=1/.test(node.stdout), `the answer in ${node.stdout}`);
    t.equal(statSync(socket).mode & 0o777, 0o666, 'other users can connect');
    t.ok(statSync(socket).isSocket());
    // A dependent follows: connected, and told when the holder is gone.
    const follower = connect({ path: socket });
    await new Promise<void>((resolve) => follower.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => follower.once('close', () => resolve()));
    follower.on('error', () => {});
    follower.resume();
    const sleeper = spawnSync('pgrep', ['-P', String(node.process.pid), 'sleep'], {
      encoding: 'utf8',
    }).stdout.trim();
    t.ok(sleeper, 'the stand-in Node runs');
    process.kill(Number(sleeper), 'SIGKILL');
    await closed;
    t.notOk(existsSync(socket), 'the socket file is removed');
    t.equal((await node.finished).code, 137);
  },
);

t.test(
  'the front refuses a liveness socket it cannot make, and says no',
  { skip: noCompiler },
  async (t) => {
    const cases: Array<[string, string]> = [
      ['relative/.main.sock', 'a relative path'],
      [`/${'x'.repeat(200)}/.main.sock`, 'a path longer than a socket address holds'],
      ['/nonexistent-dir/.main.sock', 'a directory that does not exist'],
    ];
    for (const [path, why] of cases) {
      const standIn = frontWithNode(
        `fd=$KUBEXIT_READY_FD; printf R >&$fd; printf 'L%s\\n' "$SOCK" >&$fd; ` +
          `echo "answer=$(dd bs=1 count=1 <&$fd 2>/dev/null)"`,
      );
      const ended = await new Container([], { SOCK: path }, [standIn.path as string], { raw: true })
        .finished;
      t.equal(ended.stdout, 'answer=0\n', why);
      t.equal(ended.code, 0);
    }
  },
);

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
import { isLive, isRunning, waitFor } from '../helpers/wait.ts';

/** A child that records every signal it traps into a file, one name a line. */
function recorder(file: string, signals: readonly string[]): string[] {
  const traps = signals.map((s) => `trap 'echo ${s} >> ${file}' ${s};`).join(' ');
  return ['sh', '-c', `${traps} echo ready >> ${file}; while :; do sleep 0.02; done`];
}

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

t.test(
  "SIGTERM reaches the child's whole process group; exit 128+15 and a tombstone",
  async (t) => {
    const dir = t.testdir();
    const pidFile = join(dir, 'grandchild');
    const main = startContainer(dir, 'main', [
      'sh',
      '-c',
      `sleep 300 & echo $! > ${pidFile}; wait`,
    ]);
    const grandchild = Number(await waitFor(() => lines(pidFile)[0], 'the grandchild pid'));
    main.kill('SIGTERM');
    const ended = await main.finished;
    t.equal(ended.code, 143);
    t.match(ended.stderr, /received SIGTERM: forwarding it to the child's process group/);
    await waitFor(() => !isRunning(grandchild), 'the grandchild to be gone');
    t.match(tombstoneText(dir, 'main'), /ExitCode: 143\nSignal: "SIGTERM"\nReason: "stopped"/);
  },
);

t.test('every forwarded signal kind reaches the child', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'signals');
  const signals = ['HUP', 'INT', 'QUIT', 'USR1', 'USR2', 'WINCH', 'ALRM'];
  const main = startContainer(dir, 'main', recorder(file, signals));
  await waitFor(() => lines(file).includes('ready'), 'the child to trap signals');
  for (const signal of signals) main.kill(`SIG${signal}` as NodeJS.Signals);
  await waitFor(() => signals.every((s) => lines(file).includes(s)), `all signals in ${file}`);
  main.kill('SIGTERM');
  t.equal((await main.finished).code, 143);
});

t.test('repeated signals are each forwarded, none dropped', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'signals');
  const main = startContainer(dir, 'main', recorder(file, ['USR1']));
  await waitFor(() => lines(file).includes('ready'), 'the child to trap signals');
  for (let i = 1; i <= 10; i++) {
    main.kill('SIGUSR1');
    await waitFor(
      () => lines(file).filter((l) => l === 'USR1').length === i,
      `signal ${i} to arrive`,
    );
  }
  t.equal(lines(file).filter((l) => l === 'USR1').length, 10);
  main.kill('SIGTERM');
  await main.finished;
});

t.test(
  'SIGTERM during the birth wait ends the supervisor without starting the child',
  async (t) => {
    const dir = t.testdir();
    const marker = join(dir, 'started');
    const main = startContainer(dir, 'main', ['sh', '-c', `touch ${marker}`], {
      KUBEXIT_BIRTH_DEPS: 'queue',
    });
    await main.logged(/waiting for birth dependencies/);
    main.kill('SIGUSR1');
    await main.logged(/received SIGUSR1 before the child started: ignored/);
    main.kill('SIGTERM');
    const ended = await main.finished;
    t.equal(ended.code, 143);
    t.match(ended.stderr, /received SIGTERM before the child started: not starting it/);
    t.equal(lines(marker).join(''), '', 'the child never ran');
    t.match(
      tombstoneText(dir, 'main'),
      /ExitCode: 143\nSignal: "SIGTERM"\nReason: "signal-before-start"/,
    );
    t.notMatch(tombstoneText(dir, 'main'), /Born/);
  },
);

/** Whether a process has a handler for a signal, from the SigCgt mask in /proc. */
/** Whether a process catches (SigCgt) or blocks (SigBlk, the native front's way) a signal. */
function catches(pid: number, signal: number, field: 'SigCgt' | 'SigBlk' = 'SigCgt'): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mask = new RegExp(`${field}:\\s*([0-9a-f]+)`).exec(status)?.[1] ?? '0';
  return (BigInt(`0x${mask}`) & (1n << BigInt(signal - 1))) !== 0n;
}

t.test(
  'SIGTERM as soon as kubexit handles signals, before the child starts: exit 143 with a tombstone',
  async (t) => {
    const dir = t.testdir();
    const marker = join(dir, 'started');
    const main = startContainer(dir, 'main', ['touch', marker]);
    const pid = main.process.pid as number;
    if (KUBEXIT_BIN.endsWith('.js')) {
      // Node itself catches SIGTERM during bootstrap; SIGHUP is caught only by kubexit's handlers.
      await waitFor(() => catches(pid, 1), "kubexit's signal handlers", { intervalMs: 1 });
    } else {
      // The built kubexit's native front blocks signals at its first instruction, then holds them.
      await waitFor(() => catches(pid, 15, 'SigBlk'), 'the front to guard signals', {
        intervalMs: 0,
      });
    }
    main.kill('SIGTERM');
    const ended = await main.finished;
    t.equal(ended.code, 143);
    t.match(
      tombstoneText(dir, 'main'),
      /ExitCode: 143\nSignal: "SIGTERM"\nReason: "signal-before-start"/,
    );
    t.equal(lines(marker).join(''), '', 'the child never ran');
  },
);

const pidNamespaces =
  spawnSync('unshare', ['--pid', '--fork', '--kill-child', 'true']).status === 0;

t.test(
  'as PID 1 of a PID namespace, signals are still received and forwarded',
  {
    skip: pidNamespaces
      ? false
      : 'unshare --pid is not permitted here (needs root or user namespaces)',
  },
  async (t) => {
    const dir = t.testdir();
    const file = join(dir, 'signals');
    const traps = `trap 'echo HUP >> ${file}' HUP; trap 'echo USR2 >> ${file}' USR2; trap 'echo TERM >> ${file}; exit 0' TERM;`;
    const child = [
      'sh',
      '-c',
      `echo "ppid $PPID" >> ${file}; ${traps} echo ready >> ${file}; while :; do sleep 0.02; done`,
    ];
    const pod = new Container(
      child,
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: dir, KUBEXIT_DEATH_DEPS: 'side' },
      ['unshare', '--pid', '--fork', '--kill-child'],
    );
    await waitFor(() => lines(file).includes('ready'), 'the child to start');
    // From source, Node is PID 1; built, the native front is PID 1 and starts Node as PID 2.
    const parent = KUBEXIT_BIN.endsWith('.js') ? 'ppid 1' : 'ppid 2';
    t.ok(lines(file).includes(parent), `the supervisor is the command's parent (${parent})`);
    const supervisorPid = Number(
      readFileSync(`/proc/${pod.process.pid}/task/${pod.process.pid}/children`, 'utf8').trim(),
    );
    for (const signal of ['SIGUSR2', 'SIGHUP'] as const) process.kill(supervisorPid, signal);
    await waitFor(
      () => lines(file).includes('HUP') && lines(file).includes('USR2'),
      'HUP and USR2 to reach the child',
    );
    process.kill(supervisorPid, 'SIGTERM');
    await waitFor(() => lines(file).includes('TERM'), 'the child to get SIGTERM');
    const ended = await pod.finished;
    t.equal(ended.code, 0, "the child's own exit code after its TERM trap");
    t.match(tombstoneText(dir, 'main'), /ExitCode: 0/);
  },
);

t.test(
  'as PID 1, a death dependency still stops the child',
  { skip: pidNamespaces ? false : 'unshare --pid is not permitted here' },
  async (t) => {
    const dir = t.testdir();
    // The child's `sleep` outlives its shell for a moment and is orphaned to PID 1: from the
    // sources that is Node, which reaps only its own children, so the sleep stays a zombie. A
    // zombie is no live member of the group: the stop must not wait the 10 minutes of grace.
    const pod = new Container(
      LONG_RUNNING,
      {
        KUBEXIT_NAME: 'side',
        KUBEXIT_GRAVEYARD: dir,
        KUBEXIT_DEATH_DEPS: 'main',
        KUBEXIT_GRACE_PERIOD: '10m',
      },
      ['unshare', '--pid', '--fork', '--kill-child'],
    );
    await tombstoneMatching(dir, 'side', /Born/);
    await startContainer(dir, 'main', ['true']).finished;
    const ended = await pod.finishedWithin(20_000, 'the sidecar to end, long before its grace');
    t.equal(ended.code, 0);
  },
);

t.test(
  'a forwarded SIGTERM ends the whole group: a member that ignores it is killed when the grace ends, before kubexit exits',
  async (t) => {
    const dir = t.testdir();
    const pidFile = join(dir, 'member.pid');
    // The leader dies of SIGTERM; the member ignores it, as some workers do.
    const script = `sh -c 'trap "" TERM; echo $$ > ${pidFile}; exec sleep 300' & wait`;
    const main = startContainer(dir, 'main', ['sh', '-c', script], { KUBEXIT_GRACE_PERIOD: '1s' });
    const member = await waitFor(() => {
      try {
        return Number(readFileSync(pidFile, 'utf8')) || undefined;
      } catch {
        return undefined;
      }
    }, 'the member to start');
    main.process.kill('SIGTERM');
    const ended = await main.finished;
    t.equal(ended.code, 143, "the leader's own code: killed by SIGTERM");
    t.notOk(isLive(member), 'no member outlives kubexit');
    t.match(ended.stderr, /still running 1s after SIGTERM: sending SIGKILL/);
  },
);

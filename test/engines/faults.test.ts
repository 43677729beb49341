import t from 'tap';
import { Docker, testsWith } from '../helpers/engines.ts';
import { waitFor } from '../helpers/wait.ts';

/*
 * Faults a container runtime causes, caused by Docker for real: a main container and a sidecar in
 * two containers sharing a graveyard volume, as a pod's containers share an emptyDir, each with
 * kubexit as its PID 1. `docker stop` (SIGTERM to PID 1, as the kubelet does), `docker kill -s
 * KILL`, the kernel's OOM killer under a memory limit, and a read-only root filesystem.
 */

const { engine, available, test } = testsWith(Docker.find());
let busybox = '';
let kubexitVolume = '';

if (available) {
  t.before(async () => {
    const image = await engine.buildKubexit();
    busybox = await engine.busybox(['tail']);
    kubexitVolume = await engine.volume('kubexit');
    await engine.dockerOk([
      'run',
      '--rm',
      ...engine.named('install'),
      '-v',
      `${kubexitVolume}:/kubexit`,
      image,
    ]);
  });
}

/** Two containers of one pod: their graveyard, and how to start each with kubexit as PID 1. */
async function pod(name: string) {
  const graveyard = await engine.volume(`${name}-graveyard`);
  const start = async (
    container: string,
    env: Record<string, string>,
    command: string[],
    flags: string[] = [],
  ) => {
    const environment = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    await engine.dockerOk([
      ...['run', '-d', ...engine.named(`${name}-${container}`), ...flags],
      ...['-v', `${kubexitVolume}:/kubexit:ro`, '-v', `${graveyard}:/graveyard`],
      ...[
        '-e',
        `KUBEXIT_NAME=${container}`,
        ...environment,
        busybox,
        '/kubexit/kubexit',
        ...command,
      ],
    ]);
    return `${engine.named(`${name}-${container}`)[1]}`;
  };
  /** A sidecar that runs until it is told to stop, then exits 0; started and waiting. */
  const sidecar = async (flags: string[] = []) => {
    const id = await start(
      'sidecar',
      { KUBEXIT_DEATH_DEPS: 'main' },
      ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1 & wait; done'],
      flags,
    );
    await logged(id, /started sh/);
    return id;
  };
  const tombstone = async (container: string) =>
    (
      await engine.docker([
        'run',
        '--rm',
        '-v',
        `${graveyard}:/g:ro`,
        busybox,
        'cat',
        `/g/${container}`,
      ])
    ).stdout;
  return { start, sidecar, tombstone };
}

async function logged(container: string, pattern: RegExp): Promise<string> {
  let logs = '';
  await waitFor(
    async () => {
      const ran = await engine.docker(['logs', container]);
      logs = ran.stdout + ran.stderr;
      return pattern.test(logs);
    },
    `${pattern} in the logs of ${container}`,
    { timeoutMs: 30_000, intervalMs: 100 },
  ).catch((error) => {
    throw new Error(`${error.message}:\n${logs}`);
  });
  return logs;
}

/** The container's exit code once it has ended, within a deadline. */
async function exitOf(container: string): Promise<number> {
  return Number(await engine.dockerOk(['wait', container], { timeoutMs: 60_000 }));
}

test('docker stop of the main container: kubexit as PID 1 forwards SIGTERM, the tombstone says 143, the sidecar ends', async (t) => {
  const { start, sidecar, tombstone } = await pod('stop');
  const side = await sidecar();
  const main = await start('main', {}, ['sleep', '300']);
  await logged(main, /started sleep/);
  await engine.dockerOk(['stop', '--time', '20', main]);
  t.equal(
    await exitOf(main),
    143,
    'the main container exits 143 (SIGTERM), not 137: no SIGKILL was needed',
  );
  t.match(await tombstone('main'), /ExitCode: 143\nSignal: "SIGTERM"\nReason: "stopped"\n/);
  t.equal(await exitOf(side), 0, 'the sidecar ended, exit 0');
  t.match(await logged(side, /exiting 0/), /death dependency "main" \(exit 143\) died/);
});

test('docker kill -s KILL of the main container: the sidecar concludes the loss through the liveness socket and ends', async (t) => {
  const { start, sidecar, tombstone } = await pod('kill');
  const side = await sidecar();
  const main = await start('main', {}, ['sleep', '300']);
  await logged(main, /started sleep/);
  await engine.dockerOk(['kill', '--signal', 'KILL', main]);
  t.equal(await exitOf(main), 137);
  t.notMatch(await tombstone('main'), /Died/, 'nobody could write its death');
  t.equal(await exitOf(side), 0, 'the sidecar ended, exit 0');
  t.match(
    await logged(side, /exiting 0/),
    /the supervisor of "main" is gone without writing its death/,
  );
});

test("the OOM killer kills the main container's command: exit 137, a tombstone that says so, the sidecar ends", async (t) => {
  const { start, sidecar, tombstone } = await pod('oom');
  const side = await sidecar();
  // tail keeps the last line of /dev/zero, which never ends: it grows until the kernel kills it.
  const main = await start(
    'main',
    {},
    ['tail', '/dev/zero'],
    ['--memory', '128m', '--memory-swap', '128m'],
  );
  t.equal(await exitOf(main), 137);
  t.equal(
    await engine.dockerOk(['inspect', '--format', '{{.State.OOMKilled}}', main]),
    'true',
    'an OOM kill',
  );
  t.match(await logged(main, /killed/), /child was killed by SIGKILL \(exit 137\)/);
  const written = await tombstone('main');
  t.match(written, /ExitCode: 137\n/);
  t.match(written, /Signal: "?SIGKILL"?\n/);
  t.match(written, /Reason: "?exited"?\n/);
  t.equal(await exitOf(side), 0, 'the sidecar ended, exit 0');
  t.match(await logged(side, /exiting 0/), /death dependency "main" \(exit 137\) died/);
});

test("kubexit's own Node killed as the OOM killer kills (SIGKILL): exit 137, no death written, the sidecar ends", async (t) => {
  const { start, sidecar, tombstone } = await pod('node-killed');
  const side = await sidecar();
  const main = await start('main', {}, ['sleep', '300']);
  await logged(main, /started sleep/);
  // The supervisor's Node is the process running lib/kubexit-node; its pid as the host sees it.
  const top = await engine.dockerOk(['top', main, '-eo', 'pid,args']);
  const node = top.split('\n').find((line) => line.includes('kubexit-node'));
  t.ok(node, 'Node runs in the container', { top });
  process.kill(Number.parseInt(node?.trim() ?? '', 10), 'SIGKILL');
  t.equal(
    await exitOf(main),
    137,
    'the container ends: the front exits 137, taking the command with it',
  );
  t.notMatch(await tombstone('main'), /Died/, 'Node could not write the death');
  t.match(
    await logged(main, /killed by signal/),
    /kubexit: error: the supervisor \(Node\) was killed by signal 9/,
    'the front said why',
  );
  t.equal(await exitOf(side), 0, 'the sidecar ended, exit 0');
  t.match(
    await logged(side, /exiting 0/),
    /the supervisor of "main" is gone without writing its death/,
  );
});

test('a read-only root filesystem: kubexit needs only its volumes', async (t) => {
  const { start, sidecar, tombstone } = await pod('read-only');
  const side = await sidecar(['--read-only']);
  const main = await start('main', {}, ['sh', '-c', 'exit 0'], ['--read-only']);
  t.equal(await exitOf(main), 0);
  t.match(await tombstone('main'), /ExitCode: 0\n/);
  t.equal(await exitOf(side), 0);
});

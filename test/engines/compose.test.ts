import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { Docker, type Ran, ROOT, RUN_ID, run, testsWith } from '../helpers/engines.ts';

/*
 * examples/docker-compose run by Docker Compose as a user runs it: the first `run` builds the
 * kubexit image itself (from dist/: KUBEXIT_BUNDLE=from-dist), `run --rm forwarder` returns the forwarder's code
 * and the queue ends by itself. Runs follow each other in one project without `down`, as a user
 * repeats them. The only change to the example is an override file naming this run's images
 * (a busybox made from a static busybox, no registry).
 */

const { engine, available, test } = testsWith(Docker.find());
const PROJECT = RUN_ID;
let override = '';

if (available) {
  t.before(async () => {
    const busybox = await engine.busybox();
    const kubexit = `kubexit-test/kubexit-compose:${RUN_ID}`;
    engine.removeAtExit('rmi', kubexit);
    const dir = mkdtempSync(join(tmpdir(), 'kubexit-compose-'));
    override = join(dir, 'override.yaml');
    const services = {
      install: { image: kubexit },
      queue: { image: busybox },
      forwarder: { image: busybox },
    };
    writeFileSync(override, stringify({ services }));
    engine.removeAtExit('container', `${PROJECT}-holder`);
    process.on('exit', () => {
      const [command, all, env] = composeCommand([
        'down',
        '--volumes',
        '--remove-orphans',
        '-t',
        '1',
      ]);
      spawnSync(command, all, { env, stdio: 'ignore', timeout: 60_000 });
    });
    // After `down`, which reads the override file.
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  });
}

/** The Compose command for `args` on the example, with this run's project and override. */
function composeCommand(args: readonly string[]): [string, string[], NodeJS.ProcessEnv] {
  const file = join(ROOT, 'examples/docker-compose/compose.yaml');
  const [command, ...base] = engine.compose as [string, ...string[]];
  const env = { ...engine.env, KUBEXIT_BUNDLE: 'from-dist' };
  return [command, [...base, '-p', PROJECT, '-f', file, '-f', override, ...args], env];
}

function compose(args: readonly string[]): Promise<Ran> {
  const [command, all, env] = composeCommand(args);
  return run(command, all, { env, timeoutMs: 90_000 });
}

/** The exit code of the queue's container, once it has ended (with a deadline). */
async function queueExit(): Promise<number> {
  const id = (await compose(['ps', '-q', 'queue'])).stdout.trim();
  const ran = await engine.docker(['wait', id], { timeoutMs: 60_000 });
  return Number(ran.stdout.trim());
}

test('the forwarder succeeds: run exits 0, and the queue stops by itself with 0', async (t) => {
  const ran = await compose(['run', '--rm', 'forwarder']);
  t.equal(ran.code, 0, 'run returns the forwarder code', { stderr: ran.stderr });
  t.match(ran.stdout, /forwarded batch 3/);
  t.equal(await queueExit(), 0);
  const logs = (await compose(['logs', 'queue'])).stdout;
  t.match(logs, /death dependency "forwarder" \(exit 0\) died/);
});

test('run again without down: the forwarder fails with 3, run exits 3, the queue still exits 0', async (t) => {
  const ran = await compose(['run', '--rm', 'forwarder', '/kubexit/kubexit', 'sh', '-c', 'exit 3']);
  t.equal(ran.code, 3, 'run returns the forwarder code', { stderr: ran.stderr });
  t.notMatch(ran.stderr, /birth timeout|timed out/, 'the queue was started and seen ready');
  t.equal(await queueExit(), 0);
});

test('and a third run succeeds again: no tombstone of an earlier run is seen', async (t) => {
  const ran = await compose(['run', '--rm', 'forwarder']);
  t.equal(ran.code, 0, 'run returns the forwarder code', { stderr: ran.stderr });
  t.equal(await queueExit(), 0);
});

test('the forwarder ends before the queue has started: the queue sees it at start and ends, exit 0', async (t) => {
  // Something keeps the graveyard mounted between the two containers, as a pod keeps its
  // emptyDir while its containers come and go.
  const holder = await compose([
    'run',
    '-d',
    '--no-deps',
    '--name',
    `${PROJECT}-holder`,
    'queue',
    'sleep',
    '300',
  ]);
  t.equal(holder.code, 0, 'a container holds the graveyard', { stderr: holder.stderr });
  t.equal((await compose(['run', '--rm', 'install'])).code, 0);
  const forwarder = await compose([
    ...['run', '--rm', '--no-deps', '-e', 'KUBEXIT_BIRTH_DEPS=', 'forwarder'],
  ]);
  t.equal(forwarder.code, 0, 'the forwarder ran alone and ended', { stderr: forwarder.stderr });
  const queue = await compose(['run', '--rm', '--no-deps', 'queue']);
  t.equal(queue.code, 0, 'the queue ended by itself', { stderr: queue.stderr });
  t.match(queue.stderr, /death dependency "forwarder" already died: not starting the command/);
  await engine.docker(['rm', '-f', `${PROJECT}-holder`]);
});

import t from 'tap';
import {
  LONG_RUNNING,
  startContainer,
  tombstoneMatching,
  tombstoneText,
} from '../helpers/kubexit.ts';

/*
 * The queue-sidecar / forwarder Job from the brief: the sidecar must end when the main container
 * ends, and the Job's status must be the main container's truth.
 */

t.test('main succeeds: the sidecar is stopped and both exit 0', async (t) => {
  const graveyard = t.testdir();
  const queue = startContainer(graveyard, 'queue', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'forwarder',
  });
  await tombstoneMatching(graveyard, 'queue', /Born/);
  const forwarder = startContainer(graveyard, 'forwarder', ['sh', '-c', 'echo forwarded; exit 0'], {
    KUBEXIT_BIRTH_DEPS: 'queue',
  });
  const main = await forwarder.finished;
  t.equal(main.code, 0);
  t.equal(main.stdout, 'forwarded\n', "the child's stdout is its own");
  const sidecar = await queue.finished;
  t.equal(sidecar.code, 0);
  t.match(
    sidecar.stderr,
    /death dependency "forwarder" \(exit 0\) died: stopping the child with SIGTERM/,
  );
  t.match(
    tombstoneText(graveyard, 'queue'),
    /ExitCode: 0\nSignal: "SIGTERM"\nReason: "death-deps"/,
  );
  t.match(
    tombstoneText(graveyard, 'forwarder'),
    /Born: ".+"\nReady: ".+"\nDied: ".+"\nExitCode: 0\nReason: "exited"/,
  );
});

t.test('main fails: the Job fails with its code, the sidecar still exits 0', async (t) => {
  const graveyard = t.testdir();
  const queue = startContainer(graveyard, 'queue', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'forwarder',
  });
  const forwarder = startContainer(graveyard, 'forwarder', ['sh', '-c', 'exit 3'], {
    KUBEXIT_BIRTH_DEPS: 'queue',
  });
  t.equal((await forwarder.finished).code, 3);
  t.equal((await queue.finished).code, 0);
  t.match(tombstoneText(graveyard, 'forwarder'), /ExitCode: 3/);
});

t.test(
  'race: the main finishes before the sidecar starts; the sidecar never runs and exits 0',
  async (t) => {
    const graveyard = t.testdir();
    const forwarder = startContainer(graveyard, 'forwarder', ['true']);
    t.equal((await forwarder.finished).code, 0);
    const queue = startContainer(graveyard, 'queue', LONG_RUNNING, {
      KUBEXIT_DEATH_DEPS: 'forwarder',
    });
    const sidecar = await queue.finished;
    t.equal(sidecar.code, 0);
    t.match(sidecar.stderr, /death dependency "forwarder" already died: not starting the command/);
    t.notMatch(sidecar.stderr, /started sh/);
    t.match(tombstoneText(graveyard, 'queue'), /Reason: "death-deps-before-start"/);
  },
);

t.test('race: the main starts before its sidecar and waits for it to be born', async (t) => {
  const graveyard = t.testdir();
  const forwarder = startContainer(graveyard, 'forwarder', ['sh', '-c', 'exit 0'], {
    KUBEXIT_BIRTH_DEPS: 'queue',
  });
  await forwarder.logged(/waiting for birth dependencies: queue \(timeout 30s\)/);
  t.notMatch(tombstoneText(graveyard, 'forwarder'), /Born/, 'not born while waiting');
  const queue = startContainer(graveyard, 'queue', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'forwarder',
  });
  t.equal((await forwarder.finished).code, 0);
  t.equal((await queue.finished).code, 0);
  t.match(forwarder.stderr, /birth dependencies ready/);
});

t.test(
  'a death dependency that dies during the birth wait: the child is never started',
  async (t) => {
    const graveyard = t.testdir();
    const sidecar = startContainer(graveyard, 'sidecar', LONG_RUNNING, {
      KUBEXIT_BIRTH_DEPS: 'never',
      KUBEXIT_DEATH_DEPS: 'main',
    });
    await sidecar.logged(/waiting for birth dependencies: never/);
    const main = startContainer(graveyard, 'main', ['sh', '-c', 'exit 4']);
    t.equal((await main.finished).code, 4);
    const ended = await sidecar.finished;
    t.equal(ended.code, 0);
    t.notMatch(ended.stderr, /started sh/);
  },
);

t.test('birth timeout: exit 1 naming the missing dependency, with a tombstone', async (t) => {
  const graveyard = t.testdir();
  const waiter = startContainer(graveyard, 'main', ['true'], {
    KUBEXIT_BIRTH_DEPS: 'queue, proxy',
    KUBEXIT_BIRTH_TIMEOUT: '500ms',
  });
  startContainer(graveyard, 'proxy', ['sleep', '5'], { KUBEXIT_DEATH_DEPS: 'main' });
  const ended = await waiter.finished;
  t.equal(ended.code, 1);
  t.match(ended.stderr, /birth dependencies not ready after 500ms: queue \(no tombstone\)/);
  t.match(tombstoneText(graveyard, 'main'), /ExitCode: 1\nReason: "birth-timeout"/);
});

t.test('a child that ignores SIGTERM is killed after the grace period', async (t) => {
  const graveyard = t.testdir();
  const stubborn = ['sh', '-c', 'trap "echo ignoring TERM" TERM; while :; do sleep 0.05; done'];
  const keep = startContainer(graveyard, 'keep', stubborn, {
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_GRACE_PERIOD: '300ms',
    KUBEXIT_IGNORE_CODE_ON_DEATH_DEPS: 'false',
  });
  const zero = startContainer(graveyard, 'zero', stubborn, {
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_GRACE_PERIOD: '300ms',
  });
  await tombstoneMatching(graveyard, 'keep', /Born/);
  await tombstoneMatching(graveyard, 'zero', /Born/);
  startContainer(graveyard, 'main', ['true']);
  const kept = await keep.finished;
  t.equal(kept.code, 137, 'SIGKILL is 128+9 when codes are kept');
  t.match(kept.stderr, /still running 300ms after SIGTERM: sending SIGKILL/);
  t.match(tombstoneText(graveyard, 'keep'), /ExitCode: 137\nSignal: "SIGKILL"/);
  t.equal((await zero.finished).code, 0, 'stopped by a death dependency: 0 by default');
});

t.test('a custom stop signal is sent instead of SIGTERM', async (t) => {
  const graveyard = t.testdir();
  const child = ['sh', '-c', 'trap "echo got INT; exit 7" INT; while :; do sleep 0.05; done'];
  const side = startContainer(graveyard, 'side', child, {
    KUBEXIT_DEATH_DEPS: 'main',
    KUBEXIT_STOP_SIGNAL: 'SIGINT',
    KUBEXIT_IGNORE_CODE_ON_DEATH_DEPS: 'false',
  });
  await tombstoneMatching(graveyard, 'side', /Born/);
  startContainer(graveyard, 'main', ['true']);
  const ended = await side.finished;
  t.equal(ended.code, 7);
  t.match(ended.stdout, /got INT/);
});

t.test('policy all waits for every death dependency', async (t) => {
  const graveyard = t.testdir();
  const side = startContainer(graveyard, 'side', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'a,b',
    KUBEXIT_DEATH_DEPS_POLICY: 'all',
  });
  await tombstoneMatching(graveyard, 'side', /Born/);
  await startContainer(graveyard, 'a', ['true']).finished;
  await side.logged(/tombstone of "a" changed/);
  t.notMatch(side.stderr, /stopping the child/);
  await startContainer(graveyard, 'b', ['true']).finished;
  t.equal((await side.finished).code, 0);
});

t.test(
  'restartPolicy OnFailure: the main fails, its sidecar waits for the restart, which succeeds and ends it',
  async (t) => {
    const graveyard = t.testdir();
    const env = { KUBEXIT_RESTART_POLICY: 'OnFailure' };
    const side = startContainer(graveyard, 'side', LONG_RUNNING, {
      ...env,
      KUBEXIT_DEATH_DEPS: 'main',
    });
    await side.logged(/started sh/);
    const main = { ...env, KUBEXIT_BIRTH_DEPS: 'side' };
    const failed = await startContainer(graveyard, 'main', ['sh', '-c', 'exit 1'], main).finished;
    t.equal(failed.code, 1, 'the first attempt fails');
    await side.logged(/death dependency "main" \(exit 1\) failed: with restartPolicy OnFailure/);
    // The kubelet restarts the failed container: a new supervisor of the same name.
    const retried = await startContainer(graveyard, 'main', ['true'], main).finished;
    t.equal(retried.code, 0, 'the retry found its sidecar ready and succeeded');
    const ended = await side.finished;
    t.equal(ended.code, 0, 'and the sidecar ended with it');
    t.match(ended.stderr, /death dependency "main" \(exit 0\) died/);
  },
);

// Two containers given one name: the second is refused (exit 2) on every path that can end it —
// its supervisor, an invalid configuration, unusable API-mode credentials — and never writes the
// name's tombstone (a false death would stop the first one's dependents).
for (const [path, env] of [
  ['a valid configuration', {}],
  ['an invalid option', { KUBEXIT_GRACE_PERIOD: 'x' }],
  [
    'unusable API-mode credentials',
    {
      KUBEXIT_POD_NAME: 'pod',
      KUBEXIT_NAMESPACE: 'ns',
      KUBEXIT_BIRTH_DEPS: 'side',
      KUBECONFIG: '/nonexistent/kubeconfig',
    },
  ],
] as const) {
  t.test(
    `a second container of a live one's name, with ${path}: exit 2, and the first keeps its tombstone and its sidecar`,
    async (t) => {
      const graveyard = t.testdir();
      const first = startContainer(graveyard, 'main', LONG_RUNNING);
      await first.logged(/started sh/);
      const side = startContainer(graveyard, 'side', LONG_RUNNING, { KUBEXIT_DEATH_DEPS: 'main' });
      await side.logged(/started sh/);
      const before = tombstoneText(graveyard, 'main');
      const second = await startContainer(graveyard, 'main', ['true'], env).finished;
      t.equal(second.code, 2);
      t.match(second.stderr, /another container of this pod runs as KUBEXIT_NAME=main/);
      t.equal(tombstoneText(graveyard, 'main'), before, "the first's tombstone is untouched");
      t.notMatch(
        side.stderr,
        /death dependency "main"/,
        'the sidecar did not stop on the wrong end',
      );
      first.process.kill('SIGTERM');
      t.equal((await first.finished).code, 143);
      const ended = await side.finished;
      t.equal(ended.code, 0, 'the real end of main ends the sidecar');
      t.match(ended.stderr, /death dependency "main" \(exit 143\)/);
      // A restart after the first is gone, as the kubelet's, works.
      const restarted = await startContainer(graveyard, 'main', ['true']).finished;
      t.equal(restarted.code, 0);
    },
  );
}

t.test('a death dependency typo is named at once when the real name has a tombstone', async (t) => {
  const graveyard = t.testdir();
  const forwarder = startContainer(graveyard, 'forwarder', LONG_RUNNING);
  await forwarder.logged(/started sh/);
  const queue = startContainer(graveyard, 'queue', LONG_RUNNING, {
    KUBEXIT_DEATH_DEPS: 'fowarder',
  });
  // Long before the 30 s report of dependencies without a tombstone.
  await queue.logged(
    /death dependency "fowarder" has no tombstone, but "forwarder" has one: did you mean forwarder\?/,
    5_000,
  );
  queue.kill('SIGTERM');
  forwarder.kill('SIGTERM');
  t.equal((await queue.finished).code, 143);
  t.equal((await forwarder.finished).code, 143);
});

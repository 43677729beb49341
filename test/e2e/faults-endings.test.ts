import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Container, startContainer, tombstoneText } from '../helpers/kubexit.ts';
import {
  AS_OTHER_USER,
  kubexitForOtherUser,
  otherUserSkip,
  readableScratchDir,
} from '../helpers/other-user.ts';
import { TestHttpServer } from '../helpers/servers.ts';

/*
 * Every ending goes through one path: the tombstone is written whenever the name is known, the
 * shutdown URLs are called whenever they are known, config errors exit 2, nothing a user can
 * cause prints a stack trace, and no secret is printed.
 */

const STACK = /\n\s+at /;

/** A stand-in for the Istio proxy's admin port: records the quitquitquit it is sent. */
async function proxy(t: Test): Promise<{ url: string; server: TestHttpServer }> {
  const server = new TestHttpServer();
  const base = await server.listen();
  t.teardown(() => server.close());
  return { url: `${base}/quitquitquit`, server };
}

t.test(
  'an unknown option in an Istio main: exit 2, a tombstone, and quitquitquit so the proxy ends',
  async (t) => {
    const dir = t.testdir();
    const { url, server } = await proxy(t);
    const ended = await new Container(
      ['--name', 'main', '--graveyard', dir, '--shutdown-urls', url, '--bogus', 'app'],
      {},
    ).finished;
    t.equal(ended.code, 2);
    t.match(ended.stderr, /unknown option '--bogus'/);
    t.notMatch(ended.stderr, STACK);
    t.match(tombstoneText(dir, 'main'), /ExitCode: 2\nReason: "config-error"/);
    t.ok(
      server.requests.some((r) => r.method === 'POST' && r.url === '/quitquitquit'),
      'the proxy was asked to quit',
    );
  },
);

t.test(
  'an option missing its value, with the name from the environment: exit 2 and a tombstone',
  async (t) => {
    const dir = t.testdir();
    const ended = await startContainer(dir, 'main', ['--grace-period']).finished;
    t.equal(ended.code, 2);
    t.match(ended.stderr, /option '--grace-period <duration>' argument missing/);
    t.match(tombstoneText(dir, 'main'), /ExitCode: 2\nReason: "config-error"/);
  },
);

t.test('a malformed check URL is a configuration error, not an internal one', async (t) => {
  const dir = t.testdir();
  const ended = await startContainer(dir, 'main', ['true'], {
    KUBEXIT_BIRTH_DEPS: 'file:///%ff',
  }).finished;
  t.equal(ended.code, 2);
  t.match(
    ended.stderr,
    /KUBEXIT_BIRTH_DEPS="file:\/\/\/%ff" lists "file:\/\/\/%ff", which has an invalid %-escape/,
  );
  t.notMatch(ended.stderr, STACK);
  t.match(tombstoneText(dir, 'main'), /ExitCode: 2/);
});

t.test('a repeated single-valued option is refused, not silently overridden', async (t) => {
  const dir = t.testdir();
  const ended = await new Container(['--name', 'a', '--graveyard', dir, '--name', 'b', 'true'], {})
    .finished;
  t.equal(ended.code, 2);
  t.match(ended.stderr, /--name is given twice \("a", then "b"\): give it once/);
});

t.test('a graveyard under /proc ends with exit 2 at once, naming the fix', async (t) => {
  const ended = await new Container(['true'], {
    KUBEXIT_NAME: 'main',
    KUBEXIT_GRAVEYARD: '/proc/kubexit-nope',
  }).finished;
  t.equal(ended.code, 2);
  t.match(ended.stderr, /graveyard \/proc\/kubexit-nope could not be created \(ENOENT\)/);
});

t.test(
  'API mode with a missing or malformed KUBECONFIG: exit 2, a tombstone, no stack, no secret',
  async (t) => {
    const dir = t.testdir({
      bad: 'apiVersion: v1\nusers:\n- name: x\n  user:\n    token: s3cr3t-token-value\n  [[[ broken\n',
    });
    const env = {
      KUBEXIT_BIRTH_DEPS: 'proxy',
      KUBEXIT_POD_NAME: 'pod',
      KUBEXIT_NAMESPACE: 'default',
    };
    for (const kubeconfig of [join(dir, 'missing'), join(dir, 'bad')]) {
      const ended = await startContainer(dir, 'main', ['true'], {
        ...env,
        KUBECONFIG: kubeconfig,
      }).finished;
      t.equal(ended.code, 2, kubeconfig);
      t.match(ended.stderr, /KUBECONFIG/);
      t.notMatch(ended.stderr, /s3cr3t/, 'the token is never printed');
      t.notMatch(ended.stderr, STACK);
      t.match(tombstoneText(dir, 'main'), /ExitCode: 2\nReason: "config-error"/);
    }
  },
);

t.test(
  'under umask 077, tombstones stay readable to a dependent running as another user',
  { skip: otherUserSkip() },
  async (t) => {
    const dir = readableScratchDir('kubexit-umask-');
    const graveyard = join(dir, 'graveyard');
    mkdirSync(graveyard);
    chmodSync(graveyard, 0o1777);
    const side = new Container(
      [...kubexitForOtherUser(), 'sh', '-c', 'sleep 300 & wait'],
      { KUBEXIT_NAME: 'side', KUBEXIT_GRAVEYARD: graveyard, KUBEXIT_DEATH_DEPS: 'main' },
      AS_OTHER_USER,
      { raw: true },
    );
    await side.logged(/started sh/);
    const main = new Container(['true'], { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard }, [
      'sh',
      '-c',
      'umask 077 && exec "$@"',
      'sh',
    ]);
    t.equal((await main.finished).code, 0);
    t.equal(statSync(join(graveyard, 'main')).mode & 0o777, 0o644);
    const ended = await side.finished;
    t.equal(ended.code, 0, "the other user's sidecar saw the death");
    t.notMatch(ended.stderr, /ignoring tombstone/, 'it could read the tombstone');
  },
);

t.test(
  "a sticky graveyard holding another user's file at our name fails at start: exit 2, clear message",
  { skip: otherUserSkip() },
  async (t) => {
    const dir = readableScratchDir('kubexit-sticky-');
    const graveyard = join(dir, 'graveyard');
    mkdirSync(graveyard);
    chmodSync(graveyard, 0o1777);
    writeFileSync(join(graveyard, 'main'), 'Born: "2026-01-01T00:00:00Z"\n');
    chownSync(join(graveyard, 'main'), 1001, 1001);
    const marker = join(dir, 'ran');
    const ended = await new Container(
      [...kubexitForOtherUser(), 'touch', marker],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard },
      AS_OTHER_USER,
      { raw: true },
    ).finished;
    t.equal(ended.code, 2);
    t.match(
      ended.stderr,
      /graveyard entry .*\/main belongs to uid 1001 and the graveyard is sticky, so this container \(uid 1000\) can't replace its tombstone \(EPERM\)/,
    );
    t.equal(spawnSync('test', ['-e', marker]).status, 1, 'the child never ran');
  },
);

t.test(
  'a root-owned graveyard (a fresh Docker volume) and a non-root container: exit 2, naming uid and fix',
  { skip: otherUserSkip() },
  async (t) => {
    const dir = readableScratchDir('kubexit-root-owned-');
    const graveyard = join(dir, 'graveyard');
    mkdirSync(graveyard, { mode: 0o755 });
    const marker = join(dir, 'ran');
    const ended = await new Container(
      [...kubexitForOtherUser(), 'touch', marker],
      { KUBEXIT_NAME: 'main', KUBEXIT_GRAVEYARD: graveyard },
      AS_OTHER_USER,
      { raw: true },
    ).finished;
    t.equal(ended.code, 2);
    t.match(
      ended.stderr,
      /graveyard .*\/graveyard is not writable \(EACCES\): .*graveyard is not writable by uid 1000: give the volume to that user \(a pod's securityContext.fsGroup\) or run this container as root/,
    );
    t.equal(spawnSync('test', ['-e', marker]).status, 1, 'the child never ran');
  },
);

t.test('status survives impossible times and never prints control characters raw', async (t) => {
  const dir = t.testdir({
    odd: 'Born: "2026-01-01T00:00:00Z"\nDied: "2026-13-45T99:99:99Z"\nExitCode: 1\n',
    evil: 'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:01Z"\nExitCode: 1\nReason: "\\e[2J\\e[31mgotcha"\n',
  });
  const ended = await new Container(['status', '--graveyard', dir], {}).finished;
  t.equal(ended.code, 0);
  t.match(ended.stdout, /odd\s+invalid.*Died that is not an RFC 3339 time/);
  t.match(ended.stdout, /evil\s+dead.*\\x1b\[2J\\x1b\[31mgotcha/);
  t.notOk(
    ended.stdout.includes(String.fromCharCode(27)),
    'no escape character reaches the terminal',
  );
});

// The kubelet's termination message: what `kubectl describe pod` shows as the container's Message.
t.test(
  'why it ended goes to the termination message file: a configuration error, a death dependency',
  async (t) => {
    const dir = t.testdir({ 'main-log': '', 'side-log': '' });
    const graveyard = join(dir, 'graveyard');
    const bad = await new Container(['true'], {
      KUBEXIT_NAME: 'bad',
      KUBEXIT_GRAVEYARD: graveyard,
      KUBEXIT_GRACE_PERIOD: 'x',
      KUBEXIT_TERMINATION_LOG: join(dir, 'main-log'),
    }).finished;
    t.equal(bad.code, 2);
    t.match(
      readFileSync(join(dir, 'main-log'), 'utf8'),
      /^kubexit: exit 2 \(config-error\): invalid configuration: KUBEXIT_GRACE_PERIOD="x"/,
    );
    const side = startContainer(graveyard, 'side', ['sh', '-c', 'sleep 300 & wait'], {
      KUBEXIT_DEATH_DEPS: 'main',
      KUBEXIT_TERMINATION_LOG: join(dir, 'side-log'),
    });
    await side.logged(/started sh/);
    t.equal((await startContainer(graveyard, 'main', ['true']).finished).code, 0);
    t.equal((await side.finished).code, 0);
    t.match(
      readFileSync(join(dir, 'side-log'), 'utf8'),
      /^kubexit: exit 0 \(death-deps: main\): child was killed by SIGTERM \(exit 143\)/,
    );
  },
);

t.test('outside Kubernetes no termination message file is created', async (t) => {
  const dir = t.testdir();
  const missing = join(dir, 'termination-log');
  const ended = await new Container(['true'], {
    KUBEXIT_NAME: 'main',
    KUBEXIT_GRAVEYARD: join(dir, 'graveyard'),
    KUBEXIT_TERMINATION_LOG: missing,
  }).finished;
  t.equal(ended.code, 0);
  t.notOk(existsSync(missing));
});

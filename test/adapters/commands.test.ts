import {
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { install } from '../../src/commands/install.ts';
import { status } from '../../src/commands/status.ts';

/** A bundle like the build's: the front `kubexit` and lib/ with Node, a loader and a library. */
function fakeBundle(dir: string): string {
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'kubexit'), 'front');
  for (const file of ['kubexit-node', 'ld-linux-x86-64.so.2', 'libc.so.6'])
    writeFileSync(join(dir, 'lib', file), `fake ${file}`);
  return join(dir, 'lib', 'ld-linux-x86-64.so.2');
}

t.test('install copies the front and lib/, executable, atomically and idempotently', async (t) => {
  const root = t.testdir({ target: {} });
  const executable = fakeBundle(join(root, 'bundle'));
  const lines: string[] = [];
  const target = join(root, 'target');
  t.equal(await install({ executable, target, log: (l) => lines.push(l) }), 0);
  t.same(readdirSync(target).sort(), ['kubexit', 'lib']);
  t.same(readdirSync(join(target, 'lib')).sort(), [
    'kubexit-node',
    'ld-linux-x86-64.so.2',
    'libc.so.6',
  ]);
  t.equal(readFileSync(join(target, 'kubexit'), 'utf8'), 'front');
  t.equal(statSync(join(target, 'lib', 'kubexit-node')).mode & 0o777, 0o755);
  t.match(lines, [
    /installed the kubexit portable bundle \(Node, its loader and 1 libraries\) into .*; containers that mount it anywhere run <mount>\/kubexit/,
  ]);
  t.equal(await install({ executable, target, log: () => {} }), 0, 'again');
  t.equal(readFileSync(join(target, 'kubexit'), 'utf8'), 'front', 'idempotent');
  t.same(readdirSync(target).sort(), ['kubexit', 'lib'], 'no temporary files left');
});

t.test('install refuses to copy Node itself, and reports an unwritable target', async (t) => {
  const root = t.testdir({ file: 'x' });
  await t.rejects(
    install({ executable: process.execPath, target: join(root, 'out'), log: () => {} }),
    { exitCode: 2, message: /npm run build/ },
  );
  const executable = fakeBundle(join(root, 'bundle'));
  await t.rejects(install({ executable, target: join(root, 'file', 'sub'), log: () => {} }), {
    exitCode: 2,
    message: /could not create/,
  });
  await t.rejects(install({ executable, target: 'relative/dir', log: () => {} }), {
    exitCode: 2,
    message: /needs an absolute directory \("relative\/dir" is relative\)/,
  });
  await t.rejects(install({ executable, target: '/proc/kubexit-nope', log: () => {} }), {
    exitCode: 2,
    message: /could not create \/proc\/kubexit-nope \(ENOENT\)/,
  });
});

t.test(
  'status shows every tombstone as a table, or JSON, skipping what is not a tombstone',
  async (t) => {
    const dir = t.testdir({
      main: 'Born: "2026-01-01T00:00:00Z"\nReady: "2026-01-01T00:00:01Z"\nDied: "2026-01-01T00:00:30Z"\nExitCode: 143\nSignal: "SIGTERM"\nReason: "exited"\n',
      proxy: 'Born: "2026-01-01T00:00:00Z"\nReadiness: "pending"\n',
      legacy: 'Born: "2026-01-01T00:00:00Z"\n',
      broken: '{{{',
      '.kubexit-123.tmp': 'Born: "2026-01-01T00:00:00Z"\n',
    });
    symlinkSync(join(dir, 'main'), join(dir, 'link'));
    let text = '';
    const now = new Date('2026-01-01T00:05:00Z');
    t.equal(
      await status({
        graveyard: dir,
        json: false,
        now,
        write: (s) => {
          text += s;
        },
      }),
      0,
    );
    const lines = text.trimEnd().split('\n');
    t.match(lines[0], /^NAME\s+STATE\s+BORN\s+READY\s+DIED\s+EXIT\s+REASON\s+AGE$/);
    t.match(text, /broken\s+invalid\s+is not valid YAML/);
    t.match(text, /legacy\s+ready\s+00:00:00\s+5m/);
    t.match(text, /link\s+invalid\s+is a symbolic link/);
    t.match(text, /main\s+dead\s+00:00:00\s+00:00:01\s+00:00:30\s+143 \(SIGTERM\)\s+exited\s+4m/);
    t.match(text, /proxy\s+starting\s+00:00:00/);
    t.notMatch(text, /kubexit-123/);
    let json = '';
    await status({
      graveyard: dir,
      json: true,
      now,
      write: (s) => {
        json += s;
      },
    });
    t.match(JSON.parse(json), [
      { name: 'broken', state: 'invalid' },
      { name: 'legacy', state: 'ready' },
      { name: 'link' },
      { name: 'main', state: 'dead', exitCode: 143 },
      { name: 'proxy', state: 'starting' },
    ]);
    await t.rejects(
      status({ graveyard: join(dir, 'missing'), json: false, now, write: () => {} }),
      { exitCode: 2, message: /could not read the graveyard/ },
    );
  },
);

t.test('status ages read as kubectl prints them', async (t) => {
  const { humanAge } = await import('../../src/commands/status.ts');
  const cases: Array<[number, string]> = [
    [45, '45s'],
    [119, '119s'],
    [330, '5m30s'],
    [600, '10m'],
    [7200, '120m'],
    [18_600, '5h10m'],
    [100_000, '27h'],
    [273_600, '3d4h'],
    [86_400 * 30, '30d'],
    [86_400 * (2 * 365 + 3), '2y3d'],
    [86_400 * 365 * 9, '9y'],
  ];
  for (const [seconds, shown] of cases) t.equal(humanAge(seconds), shown, `${seconds} s`);
});

t.test('status shows a container still waiting for its birth dependencies', async (t) => {
  const dir = t.testdir({ main: 'Waiting: "2026-01-01T00:00:00Z"\n' });
  let out = '';
  await status({
    graveyard: dir,
    json: false,
    now: new Date('2026-01-01T00:01:30Z'),
    write: (text) => {
      out += text;
    },
  });
  t.match(out, /main\s+waiting\s+.*90s/);
});

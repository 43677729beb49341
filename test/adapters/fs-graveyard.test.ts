import { execFileSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FsGraveyard } from '../../src/adapters/fs-graveyard.ts';
import { GraveyardError } from '../../src/core/model/errors.ts';

const tombstone = { born: '2026-01-01T00:00:00Z', died: '2026-01-01T00:00:01Z', exitCode: 0 };

t.test('writes a kubexit-readable tombstone and leaves no temporary file', async (t) => {
  const dir = t.testdir();
  const graveyard = new FsGraveyard(dir);
  await graveyard.prepare('main');
  await graveyard.write('main', tombstone);
  t.equal(
    readFileSync(join(dir, 'main'), 'utf8'),
    'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:01Z"\nExitCode: 0\n',
  );
  t.same(readdirSync(dir).sort(), ['.main.reserve', 'main'], 'the final record has a reserve');
  await graveyard.writeFinal('main', tombstone);
  t.same(readdirSync(dir), ['main'], 'the reserve is dropped once the final record is written');
  t.same(await graveyard.read('main'), { kind: 'ok', tombstone });
});

t.test('creates a missing graveyard, nested', async (t) => {
  const dir = join(t.testdir(), 'a', 'b');
  await new FsGraveyard(dir).prepare('main');
  t.same(readdirSync(dir), ['.main.reserve'], 'the write probe is cleaned up');
});

t.test('a graveyard that is a file, or under a file, is refused with a fix', async (t) => {
  const dir = t.testdir({ file: 'x' });
  await t.rejects(new FsGraveyard(join(dir, 'file')).prepare('main'), {
    name: 'GraveyardError',
    message: /is not a directory/,
  });
  await t.rejects(new FsGraveyard(join(dir, 'file', 'sub')).prepare('main'), GraveyardError);
});

t.test('a directory planted at our tombstone name is refused before start', async (t) => {
  const dir = t.testdir({ main: {} });
  await t.rejects(new FsGraveyard(dir).prepare('main'), { message: /is a directory/ });
});

t.test('a symlink planted at our tombstone name is replaced, never written through', async (t) => {
  const dir = t.testdir({ victim: 'precious\n' });
  const graveyard = join(dir, 'graveyard');
  mkdirSync(graveyard);
  symlinkSync(join(dir, 'victim'), join(graveyard, 'main'));
  await new FsGraveyard(graveyard).write('main', tombstone);
  t.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'precious\n');
  t.match(readFileSync(join(graveyard, 'main'), 'utf8'), /ExitCode: 0/);
});

t.test('reads treat the graveyard as untrusted', async (t) => {
  const dir = t.testdir({
    target: 'Born: "2026-01-01T00:00:00Z"\n',
    garbage: '\u0000\u00ff{{{',
    empty: '',
    huge: `Born: "2026-01-01T00:00:00Z"\n#${'x'.repeat(5_000)}\n`,
    folder: {},
  });
  symlinkSync(join(dir, 'target'), join(dir, 'link'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const graveyard = new FsGraveyard(dir);
  t.same(await graveyard.read('absent'), { kind: 'absent' });
  t.match(await graveyard.read('link'), { kind: 'invalid', problem: /symbolic link/ });
  t.match(
    await graveyard.read('fifo'),
    { kind: 'invalid', problem: /not a regular file/ },
    'a FIFO does not hang the read',
  );
  t.match(await graveyard.read('folder'), { kind: 'invalid', problem: /directory/ });
  t.match(await graveyard.read('huge'), { kind: 'invalid', problem: /larger than 4096 bytes/ });
  t.match(await graveyard.read('empty'), { kind: 'invalid', problem: /empty/ });
  t.match(await graveyard.read('garbage'), { kind: 'invalid' });
  t.match(await graveyard.read('target'), { kind: 'ok' });
});

t.test('a failed write leaves no temporary file behind', async (t) => {
  const dir = t.testdir({ main: { occupied: 'x' } });
  await t.rejects(new FsGraveyard(dir).write('main', tombstone));
  t.same(readdirSync(dir), ['main']);
});

t.test('writing concurrently never exposes a partial tombstone', async (t) => {
  const dir = t.testdir();
  const graveyard = new FsGraveyard(dir);
  writeFileSync(join(dir, 'main'), 'Born: "2026-01-01T00:00:00Z"\n');
  const writes = Array.from({ length: 50 }, (_, i) =>
    graveyard.write('main', { ...tombstone, exitCode: i }),
  );
  const reads = Array.from({ length: 200 }, () => graveyard.read('main'));
  const results = await Promise.all(reads);
  await Promise.all(writes);
  t.ok(
    results.every((r) => r.kind === 'ok'),
    'every read saw a complete tombstone',
  );
});

t.test('tombstones are readable by every user whatever the umask (0644)', async (t) => {
  const dir = t.testdir();
  const previous = process.umask(0o077);
  t.teardown(() => process.umask(previous));
  const graveyard = new FsGraveyard(dir);
  await graveyard.prepare('main');
  await graveyard.write('main', { born: tombstone.born });
  t.equal(statSync(join(dir, 'main')).mode & 0o777, 0o644);
  await graveyard.writeFinal('main', tombstone);
  t.equal(statSync(join(dir, 'main')).mode & 0o777, 0o644);
});

t.test('the final record is retried on transient errors and gives up on the others', async (t) => {
  const dir = t.testdir();
  const graveyard = new FsGraveyard(join(dir, 'missing'));
  await t.rejects(graveyard.writeFinal('main', tombstone), { code: 'ENOENT' }, 'not retried');
});

t.test(
  "another user's file at our name is taken over at start, content kept, so later writes can't fail",
  { skip: process.getuid?.() === 0 ? false : 'needs root to chown' },
  async (t) => {
    const dir = t.testdir({ main: 'Born: "2026-01-01T00:00:00Z"\n' });
    chownSync(join(dir, 'main'), 4321, 4321);
    await new FsGraveyard(dir).prepare('main');
    t.equal(statSync(join(dir, 'main')).uid, 0);
    t.equal(readFileSync(join(dir, 'main'), 'utf8'), 'Born: "2026-01-01T00:00:00Z"\n');
  },
);

t.test('an unchanged tombstone is not read again, and every change is seen', async (t) => {
  const dir = t.testdir();
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, `.${name}.tmp`), text);
    renameSync(join(dir, `.${name}.tmp`), join(dir, name));
  };
  // Every change counts as settled here (even one the coarse file clock puts a little ahead of
  // Date.now()), so every read is remembered.
  const graveyard = new FsGraveyard(dir, { settledMs: Number.NEGATIVE_INFINITY });
  write('main', 'Born: "2026-01-01T00:00:00Z"\n');
  const first = await graveyard.read('main');
  t.match(first, { kind: 'ok', tombstone: { born: '2026-01-01T00:00:00Z' } });
  t.equal(await graveyard.read('main'), first, 'the same result, not read and parsed again');
  write('main', 'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:05Z"\nExitCode: 3\n');
  t.match(await graveyard.read('main'), { kind: 'ok', tombstone: { exitCode: 3 } }, 'replaced');
  writeFileSync(
    join(dir, 'main'),
    'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:05Z"\nExitCode: 14\n',
  );
  t.match(
    await graveyard.read('main'),
    { kind: 'ok', tombstone: { exitCode: 14 } },
    'written in place, as the original kubexit writes',
  );
  write('main', 'garbage');
  t.match(await graveyard.read('main'), { kind: 'invalid' });
  rmSync(join(dir, 'main'));
  t.same(await graveyard.read('main'), { kind: 'absent' });
});

t.test('a tombstone changed within the last seconds is always read again', async (t) => {
  const dir = t.testdir({ main: 'Born: "2026-01-01T00:00:00Z"\nExitCode: 1\n' });
  const graveyard = new FsGraveyard(dir);
  const first = await graveyard.read('main');
  t.not(await graveyard.read('main'), first, 'not remembered: its change is too recent');
  // The same size, in place, at once: on a filesystem with coarse timestamps this change could
  // carry the same times as the last one, which is why only settled files are remembered.
  writeFileSync(join(dir, 'main'), 'Born: "2026-01-01T00:00:00Z"\nExitCode: 2\n');
  t.match(await graveyard.read('main'), { kind: 'ok', tombstone: { exitCode: 2 } });
});

t.test(
  'names: the entries that could be tombstones, never kubexit’s dot files; [] when unreadable',
  async (t) => {
    const dir = t.testdir({
      queue: 'Born: "x"\n',
      '.queue.sock': '',
      '.tmp-1': '',
      'bad name': '',
    });
    t.same((await new FsGraveyard(dir).names()).sort(), ['queue']);
    t.same(await new FsGraveyard(join(dir, 'missing')).names(), []);
  },
);

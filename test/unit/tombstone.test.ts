import t from 'tap';
import { formatTimestamp, serializeTombstone } from '../../src/core/model/tombstone.ts';
import { parseTombstone } from '../../src/core/model/tombstone-yaml.ts';

t.test('serializes like kubexit: Go field names, double-quoted times', async (t) => {
  const text = serializeTombstone({
    born: '2020-04-28T10:41:46.9926314Z',
    died: '2020-04-28T10:41:47.0498724Z',
    exitCode: 0,
    reason: 'exited',
  });
  t.equal(
    text,
    'Born: "2020-04-28T10:41:46.9926314Z"\nDied: "2020-04-28T10:41:47.0498724Z"\nExitCode: 0\nReason: "exited"\n',
  );
});

t.test('reads tombstones written by kubexit', async (t) => {
  const alive = parseTombstone('Born: "2020-04-28T10:41:46.9926314Z"\n');
  t.same(alive, { ok: true, tombstone: { born: '2020-04-28T10:41:46.9926314Z' } });
  const dead = parseTombstone(
    'Born: "2020-04-28T10:41:46.9926314Z"\nDied: "2020-04-28T10:41:47.0498724Z"\nExitCode: 2\n',
  );
  t.match(dead, { ok: true, tombstone: { died: '2020-04-28T10:41:47.0498724Z', exitCode: 2 } });
});

t.test('reads keys case-insensitively and ignores unknown keys', async (t) => {
  const parsed = parseTombstone(
    'born: 2020-04-28T10:41:46Z\nDIED: "2020-04-28T10:41:47+02:00"\nexitcode: 1\nColor: blue\n',
  );
  t.match(parsed, {
    ok: true,
    tombstone: { born: '2020-04-28T10:41:46Z', died: '2020-04-28T10:41:47+02:00', exitCode: 1 },
  });
});

t.test('round-trips every field', async (t) => {
  const tombstone = {
    born: '2026-01-01T00:00:00Z',
    died: '2026-01-01T00:00:01.5Z',
    exitCode: 143,
    signal: 'SIGTERM',
    reason: 'death-deps',
  };
  t.same(parseTombstone(serializeTombstone(tombstone)), { ok: true, tombstone });
});

t.test('describes garbage instead of throwing', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   \n', /empty/],
    ['Born: [unclosed', /not valid YAML/],
    ['- a\n- b\n', /mapping/],
    ['just a string', /mapping/],
    ['Born: yesterday\n', /Born that is not an RFC 3339 time/],
    ['Died: 12\n', /Died that is not/],
    ['ExitCode: "zero"\n', /ExitCode that is not an integer/],
    ['ExitCode: 1.5\n', /ExitCode that is not an integer/],
    ['a: &x [1]\nb: *x\n', /not valid YAML/],
    ['\u0000\u0001binary', /./],
  ];
  for (const [text, problem] of cases) {
    const parsed = parseTombstone(text);
    t.equal(parsed.ok, false, JSON.stringify(text));
    if (!parsed.ok) t.match(parsed.problem, problem, JSON.stringify(text));
  }
});

t.test('formats nanosecond timestamps like RFC3339Nano', async (t) => {
  t.equal(formatTimestamp(1_588_070_506_992_631_400n), '2020-04-28T10:41:46.9926314Z');
  t.equal(formatTimestamp(1_588_070_506_000_000_000n), '2020-04-28T10:41:46Z');
  t.equal(formatTimestamp(1_588_070_506_000_000_001n), '2020-04-28T10:41:46.000000001Z');
});

t.test(
  'the simple form is read without YAML; anything else is left to the YAML parser',
  async (t) => {
    const { parseSimpleTombstone } = await import('../../src/core/model/tombstone.ts');
    const ours = 'Born: "2026-01-01T00:00:00Z"\nDied: "2026-01-01T00:00:01Z"\nExitCode: -1\n';
    t.same(parseSimpleTombstone(ours), parseTombstone(ours), 'the same result both ways');
    t.match(parseSimpleTombstone(ours), { ok: true, tombstone: { exitCode: -1 } });
    t.match(parseSimpleTombstone('born: "2026-01-01T00:00:00Z"\r\n'), { ok: true });
    for (const other of [
      "Born: '2026-01-01T00:00:00Z'\n",
      'Born: "2026-01-01T00:00:00Z" # a comment\n',
      'Born: "a"\nBorn: "b"\n',
      'Reason: "caf\u00e9"\n',
      'Reason: "tab\\there"\n',
      '{Born: "2026-01-01T00:00:00Z"}\n',
    ]) {
      t.equal(parseSimpleTombstone(other), undefined, JSON.stringify(other));
    }
    t.match(parseSimpleTombstone('ExitCode: "zero"\n'), { ok: false, problem: /not an integer/ });
  },
);

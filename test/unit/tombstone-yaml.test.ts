import t from 'tap';
import { parseTombstone } from '../../src/core/model/tombstone-yaml.ts';

t.test('a tombstone in any YAML form is read, unknown keys ignored', async (t) => {
  t.match(
    parseTombstone(
      "Born: '2020-04-28T10:41:46Z'\nDied: 2020-04-28T10:42:00Z\nExitCode: 0\nOther: [1, 2]\n",
    ),
    {
      ok: true,
      tombstone: { born: '2020-04-28T10:41:46Z', exitCode: 0 },
    },
  );
  t.match(parseTombstone('{Born: "2020-04-28T10:41:46Z", ExitCode: 3}'), {
    ok: true,
    tombstone: { exitCode: 3 },
  });
});

t.test('garbage is refused with a reason, never thrown', async (t) => {
  for (const text of ['- a list\n', 'Born: [unclosed\n', 'just text'])
    t.match(parseTombstone(text), { ok: false }, JSON.stringify(text));
});

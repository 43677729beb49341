import { readFileSync } from 'node:fs';
import t from 'tap';
import { EXIT_CODES } from '../../src/core/exit-codes.ts';
import { OPTION_SPECS } from '../../src/core/options.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const tableRows = readme.split('\n').filter((line) => line.startsWith('| '));

t.test('the README documents every option: flag, variable and default', async (t) => {
  for (const spec of OPTION_SPECS) {
    const row = tableRows.find((line) =>
      line.startsWith(`| \`--${spec.flag}\` | \`${spec.env}\` |`),
    );
    t.ok(row, `a row for --${spec.flag}`);
    if (spec.default) t.match(row, `\`${spec.default}\``, `the default of --${spec.flag}`);
  }
});

t.test("the README's exit-code table lists every code kubexit uses", async (t) => {
  for (const code of Object.values(EXIT_CODES)) {
    t.ok(
      tableRows.some((line) => line.startsWith(`| ${code} |`)),
      `exit code ${code}`,
    );
  }
});

t.test('the README lists every tombstone reason', async (t) => {
  const reasons =
    readFileSync(new URL('../../src/core/tombstone.ts', import.meta.url), 'utf8').match(
      /\| '([a-z-]+)'/g,
    ) ?? [];
  t.ok(reasons.length >= 8);
  for (const reason of reasons) t.match(readme, `\`${reason.slice(3, -1)}\``);
});

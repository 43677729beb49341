import { readFileSync } from 'node:fs';
import t from 'tap';
import { EXIT_CODES } from '../../src/core/exit-codes.ts';
import { OPTION_SPECS } from '../../src/core/options.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** Table rows as trimmed cells, whatever the column padding. */
const tableRows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );

t.test('the README documents every option: flag, variable and default', async (t) => {
  for (const spec of OPTION_SPECS) {
    const row = tableRows.find(
      (cells) => cells[0] === `\`--${spec.flag}\`` && cells[1] === `\`${spec.env}\``,
    );
    t.ok(row, `a row for --${spec.flag}`);
    if (spec.default) t.equal(row?.[2], `\`${spec.default}\``, `the default of --${spec.flag}`);
  }
});

t.test("the README's exit-code table lists every code kubexit uses", async (t) => {
  for (const code of Object.values(EXIT_CODES)) {
    t.ok(
      tableRows.some((cells) => cells[0] === String(code)),
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

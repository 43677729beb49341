import { readFileSync } from 'node:fs';
import t from 'tap';
import { EXIT_CODES } from '../../src/core/model/exit-codes.ts';
import { OPTION_SPECS } from '../../src/core/model/options.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const howItWorks = readFileSync(new URL('../../docs/how-it-works.md', import.meta.url), 'utf8');
const performance = readFileSync(new URL('../../docs/performance.md', import.meta.url), 'utf8');
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

t.test('How kubexit works lists every tombstone reason', async (t) => {
  const reasons =
    readFileSync(new URL('../../src/core/model/tombstone.ts', import.meta.url), 'utf8').match(
      /\| '([a-z-]+)'/g,
    ) ?? [];
  t.ok(reasons.length >= 8);
  for (const reason of reasons) t.match(howItWorks, `\`${reason.slice(3, -1)}\``);
});

t.test(
  "Performance names the executable's V8 flags and the heap's compaction as they are",
  async (t) => {
    const { V8_FLAGS } = await import('../../scripts/sea.ts');
    t.ok(
      performance.includes(`\`${V8_FLAGS.join(' ')}\``),
      `Performance says \`${V8_FLAGS.join(' ')}\``,
    );
    const { COMPACT_AFTER_MS, COMPACT_SPREAD_MS, COMPACT_EVERY_MS } = await import(
      '../../src/adapters/heap-compaction.ts'
    );
    t.equal(COMPACT_AFTER_MS, 1_000, 'the README says from 1 s after start');
    t.equal(COMPACT_SPREAD_MS, 2_000, 'the README says up to 3 s after start');
    t.equal(COMPACT_EVERY_MS, 60_000, 'the README says every minute');
    t.match(performance, /compacts its heap 1–3 s after start and then every minute/);
  },
);

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

/*
 * The benchmark's quick mode must keep working. Only that it runs and reports every section is
 * checked here: timings belong in BENCHMARKS.md, never in assertions.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const skip = !existsSync(join(ROOT, 'dist', 'kubexit'))
  ? 'dist/ is not built: run npm run build first'
  : spawnSync('cc', ['--version']).status !== 0
    ? 'no C compiler for the timing helper'
    : false;

t.test('npm run bench -- --quick runs and reports every measurement', { skip }, async (t) => {
  const out = join(t.testdir(), 'BENCHMARKS.md');
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'bench', 'main.ts'), '--quick', '--out', out],
    { encoding: 'utf8' },
  );
  t.equal(run.status, 0, run.stderr);
  const report = readFileSync(out, 'utf8');
  for (const heading of [
    '## Targets',
    '## Startup',
    '## Death reaction latency',
    '## Idle cost',
    '## Scale',
    '## Size',
  ]) {
    t.match(report, heading);
  }
  t.match(report, /Machine: \d+ × .+, \d+ GiB, Linux .+, Node v24/);
  t.match(
    report,
    /\| dist\/kubexit -- true \| [\d.]+ \([\d.]+–[\d.]+\) \| [\d.]+ \([\d.]+–[\d.]+\) \|/,
  );
  t.match(report, /\| inotify \| 3 \|/);
  t.match(report, /\| polling every 100 ms \| 3 \|/);
  t.equal(run.stdout.trim(), report.trim(), 'the table is printed too');
});

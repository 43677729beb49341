/*
 * npm run test:stress [-- --runs N]: the everyday suite (npm test) N times in a row (10 unless
 * told) while one busy process per CPU competes for the machine, as on a loaded CI runner. A test
 * that passes only on an idle machine (a deadline too tight, a race) fails here. Prints each run's
 * verdict and time, and exits 1 when any run failed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';

const at = process.argv.indexOf('--runs');
const runs = at > 0 ? Number(process.argv[at + 1]) : 10;
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('test:stress: --runs needs a whole number of runs, such as --runs 10\n');
  process.exit(2);
}

const load: ChildProcess[] = [];
const stopLoad = () => {
  for (const child of load) child.kill('SIGKILL');
};
process.on('exit', stopLoad);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    stopLoad();
    process.exit(130);
  });
for (let cpu = 0; cpu < availableParallelism(); cpu++)
  load.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));

let failed = 0;
for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  const result = spawnSync('npm', ['test', '--', '--reporter=terse'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const ok = result.status === 0;
  if (!ok) failed++;
  process.stdout.write(
    `run ${run}/${runs}: ${ok ? 'passed' : 'FAILED'} in ${seconds} s (load average ${loadavg()[0]?.toFixed(1)})\n`,
  );
  if (!ok) process.stdout.write(`${result.stdout.slice(-4000)}${result.stderr.slice(-2000)}\n`);
}
stopLoad();
process.stdout.write(
  `${runs - failed} of ${runs} runs passed under ${availableParallelism()} busy processes\n`,
);
process.exit(failed === 0 ? 0 : 1);

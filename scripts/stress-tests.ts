/*
 * npm run test:stress [-- --runs N]: the everyday suite (npm test) N times in a row (10 unless
 * told) while one busy process per CPU competes for the machine, as on a loaded CI runner. A test
 * that passes only on an idle machine (a deadline too tight, a race) fails here. Prints each run's
 * verdict and time, and exits 1 when any run failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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

/** A command's exit status and the end of its output. */
function runSuite(
  command: string,
  args: readonly string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    load.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-8000);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('close', (status) => {
      load.splice(load.indexOf(child), 1);
      resolve({ status, stdout, stderr });
    });
  });
}

let failed = 0;
for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  // Asynchronous, so that a signal to this script ends the load at once, not after the run.
  const result = await runSuite('npm', ['test', '--', '--reporter=terse']);
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

/*
 * node scripts/bench/floor.ts   builds the floor executables into dist/.cache/bench-floor/ and
 *                               prints their paths as JSON (what buildFloors reads).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE, ROOT } from './helpers.ts';

/**
 * Node's own floor, next to kubexit: single executables made exactly as kubexit's (the same
 * Node, V8 flags and code cache), one doing nothing, one doing the least any supervisor must —
 * start its command, record that it started and that it ended in a file of the graveyard
 * (`$KUBEXIT_GRAVEYARD/$KUBEXIT_NAME`, written and renamed), pass SIGTERM on, exit with the
 * command's code. What kubexit costs beyond the second is its own; the rest is Node's.
 */
export interface Floors {
  readonly nothing: string;
  readonly supervisor: string;
}

const NOTHING = '';

const SUPERVISOR = `
const fs = require('node:fs');
const path = process.env.KUBEXIT_GRAVEYARD + '/' + process.env.KUBEXIT_NAME;
const record = (text) => {
  fs.writeFileSync(path + '.tmp', text);
  fs.renameSync(path + '.tmp', path);
};
const child = require('node:child_process').spawn(process.argv[2], process.argv.slice(3), { stdio: 'inherit' });
record('Born\\n');
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  record('Born\\nDied\\n');
  process.exit(code ?? 128 + require('node:os').constants.signals[signal]);
});
`;

/**
 * Builds the floor executables in a process of its own: injecting a blob loads postject's
 * WebAssembly, hundreds of MiB, and every later fork of the benchmark's own process would copy
 * their page tables — ~10 ms more for each command it times (measured), which shrinks every ratio.
 */
export function buildFloors(): Floors {
  const script = fileURLToPath(import.meta.url);
  return JSON.parse(execFileSync(NODE, [script], { encoding: 'utf8' })) as Floors;
}

async function build(): Promise<Floors> {
  const { makeSingleExecutable } = await import('../sea.ts');
  const dir = join(ROOT, 'dist', '.cache', 'bench-floor');
  mkdirSync(dir, { recursive: true });
  const make = async (name: string, source: string) => {
    const main = join(dir, `${name}.js`);
    writeFileSync(main, source);
    const made = join(dir, `${name}.made`);
    await makeSingleExecutable({
      hostNode: NODE,
      targetNode: NODE,
      strip: 'strip',
      main,
      useCodeCache: true,
      work: join(dir, name),
      output: made,
    });
    // Copied by the kernel, as the build installs dist/lib/kubexit-node: the injected file was
    // written in one go, which leaves it cached in large folios, and every process running it
    // would map ~20 MiB more than one running a copy.
    const output = join(dir, name);
    rmSync(output, { force: true });
    copyFileSync(made, output);
    chmodSync(output, 0o755);
    return output;
  };
  return {
    nothing: await make('nothing', NOTHING),
    supervisor: await make('supervisor', SUPERVISOR),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await build()));
}

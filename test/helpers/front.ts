import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KUBEXIT_BIN } from './kubexit.ts';
import { scratchDir } from './temp.ts';

const SOURCE = fileURLToPath(new URL('../../native/front.c', import.meta.url));

/**
 * A kubexit with its native front: the built one when KUBEXIT_BIN names it, otherwise the front
 * compiled from native/front.c into a temporary layout whose lib/kubexit-node runs the sources on
 * this Node. Undefined when no C compiler is available (the message says which).
 */
export function kubexitWithFront(): { path?: string; skip: string | false } {
  if (!KUBEXIT_BIN.endsWith('.js')) return { path: KUBEXIT_BIN, skip: false };
  return frontWithNode(EXEC_NODE);
}

/** The shell line that runs kubexit's Node part: the sources on this Node, or the built one. */
export const EXEC_NODE = KUBEXIT_BIN.endsWith('.js')
  ? `exec "${process.execPath}" "${KUBEXIT_BIN}" "$@"`
  : `exec "${join(dirname(KUBEXIT_BIN), 'lib', 'kubexit-node')}" "$@"`;

/**
 * The front compiled from native/front.c, running `script` (sh) as its lib/kubexit-node: the
 * sources on this Node, or a stand-in for a Node that starts late or never says it is ready.
 */
export function frontWithNode(script: string): { path?: string; skip: string | false } {
  if (spawnSync('cc', ['--version']).status !== 0)
    return { skip: 'no C compiler (cc) to build native/front.c' };
  const home = scratchDir('kubexit-front-');
  mkdirSync(join(home, 'lib'));
  // Static, as the build makes it: no dynamic loader runs before its first instruction.
  const output = ['-O2', '-o', join(home, 'kubexit'), SOURCE];
  if (spawnSync('cc', ['-static', ...output]).status !== 0) execFileSync('cc', output);
  writeFileSync(join(home, 'lib', 'kubexit-node'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return { path: join(home, 'kubexit'), skip: false };
}

import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';
import { homeOf, install } from './install.ts';

/** cp's own exit code for a failure. */
const CP_FAILED = EXIT_CODES.failed;
const USAGE =
  "this image's cp copies kubexit itself: cp /bin/kubexit /kubexit/kubexit (or, better, kubexit install /kubexit)";

/**
 * `cp SOURCE DEST` as kubexit's documented init container runs it in our image
 * (`command: ['cp', '/bin/kubexit', '/kubexit/kubexit']`): the image links /bin/cp and
 * /bin/kubexit to kubexit's front, which says it was called as cp. Copying the front alone would
 * leave a kubexit that can't run (Node and its libraries are in lib/ next to it), so copying
 * kubexit installs the whole bundle: the front under DEST's name, lib/ beside it. A DEST that is a
 * directory receives `kubexit`. Nothing else is copied: this is not a general cp.
 */
export async function copyAsCp(
  args: readonly string[],
  executable: string,
  log: (line: string) => void,
): Promise<number> {
  const operands = args.filter((arg) => arg !== '--');
  const [source, destination] = operands;
  if (operands.length !== 2 || operands.some((arg) => arg.startsWith('-')))
    throw new SupervisorError(`cp: ${USAGE}`, CP_FAILED);
  const home = homeOf(executable);
  const own = await realpath(join(home, 'kubexit'));
  const given = await realpath(source as string).catch(() => undefined);
  if (given !== own)
    throw new SupervisorError(`cp: ${JSON.stringify(source)} is not kubexit; ${USAGE}`, CP_FAILED);
  const target = resolve(destination as string);
  const isDirectory = (await stat(target).catch(() => undefined))?.isDirectory() ?? false;
  return isDirectory
    ? install({ executable, target, log })
    : install({ executable, target: dirname(target), name: basename(target), log });
}

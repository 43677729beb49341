import { readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { accessFix } from '../adapters/access-fix.ts';
import { copyAtomically, makeDirectory } from '../adapters/atomic-file.ts';
import { errorCode, SupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';

export interface InstallOptions {
  /** The running Node (process.execPath): lib/kubexit-node, or lib/'s loader running it. */
  readonly executable: string;
  readonly target: string;
  /** The front's file name in `target` (`kubexit`, unless `cp` was told another). */
  readonly name?: string;
  readonly log: (line: string) => void;
}

/**
 * Copies the running kubexit — the native front `kubexit` and everything in its `lib/` (Node as
 * lib/kubexit-node, and for the portable bundle its loader and libraries) — into `target`,
 * typically a shared emptyDir an init container fills for the other containers. Nothing in the
 * copy names a path: the front finds lib/ next to itself, so the other containers may mount the
 * volume anywhere. Each file is written to a temporary name, fsynced and renamed into place, lib/
 * first and the front last: a container that sees `target/kubexit` sees a complete bundle.
 * Running it again replaces the files with identical ones, so a restarted init container is
 * harmless.
 */
export async function install(options: InstallOptions): Promise<number> {
  const { executable, target, log } = options;
  const name = options.name ?? 'kubexit';
  if (!isAbsolute(target)) {
    throw new SupervisorError(
      `kubexit install needs an absolute directory (${JSON.stringify(target)} is relative), such as /kubexit`,
      EXIT_CODES.config,
    );
  }
  const home = homeOf(executable);
  try {
    makeDirectory(join(target, 'lib'));
  } catch (error) {
    const code = errorCode(error);
    // The image's own /kubexit belongs to its user: Docker gives a fresh volume mounted there
    // the same owner, so that is the fix to name first.
    const fix =
      accessFix(target, code)?.concat(', or mount the volume at /kubexit') ??
      'mount a writable volume there';
    throw new SupervisorError(`could not create ${target} (${code}): ${fix}`, EXIT_CODES.config);
  }
  const files = await bundledFiles(join(home, 'lib'));
  for (const file of files) await copy(join(home, 'lib', file), join(target, 'lib', file));
  await copy(join(home, 'kubexit'), join(target, name));
  const kind = files.some((name) => name.startsWith('ld-'))
    ? `portable bundle (Node, its loader and ${files.length - 2} libraries)`
    : 'executable (it needs glibc in the images that run it)';
  log(
    `installed the kubexit ${kind} into ${target}; containers that mount it anywhere run <mount>/${name}, such as ${target}/${name}`,
  );
  return 0;
}

/** The directory holding the front `kubexit` and `lib/`, from the running Node's path. */
export function homeOf(executable: string): string {
  if (basename(dirname(executable)) !== 'lib' || basename(executable).startsWith('node')) {
    const fix = 'build it with npm run build and run dist/kubexit install';
    throw new SupervisorError(
      `kubexit install copies the built kubexit, and this is kubexit running from source on Node: ${fix}`,
      EXIT_CODES.config,
    );
  }
  return dirname(dirname(executable));
}

async function bundledFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => []);
  return entries.filter((name) => !name.startsWith('.')).sort();
}

async function copy(from: string, destination: string): Promise<void> {
  try {
    copyAtomically(from, dirname(destination), basename(destination), 0o755);
  } catch (error) {
    throw new SupervisorError(
      `could not install ${destination} (${errorCode(error)})`,
      EXIT_CODES.failed,
    );
  }
}

import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { makeDirectory, writeAtomically } from '../adapters/atomic-file.ts';
import { errorCode, SupervisorError } from '../core/errors.ts';
import { writeInterpreter } from './elf-interpreter.ts';

export interface InstallOptions {
  /** The running executable (process.execPath). */
  readonly executable: string;
  readonly target: string;
  /** Where the containers that run it mount the target; the target itself by default. */
  readonly mountPath?: string;
  readonly log: (line: string) => void;
}

/**
 * Copies the running kubexit — the executable and, for the portable bundle, its loader and
 * libraries — into `target`, typically a shared emptyDir an init container fills for the other
 * containers. The copy's interpreter is pointed at the loader where those containers will see it.
 * Each file is written to a temporary name, fsynced and renamed into place, libraries first and
 * the executable last: a container that sees `target/kubexit` sees a complete bundle. Running it
 * again replaces the files with identical ones, so a restarted init container is harmless.
 */
export async function install(options: InstallOptions): Promise<number> {
  const { executable, target, log } = options;
  if (!isAbsolute(target) || (options.mountPath !== undefined && !isAbsolute(options.mountPath))) {
    throw new SupervisorError(
      `kubexit install needs an absolute directory (${JSON.stringify(options.mountPath ?? target)} is relative): the installed kubexit is found by that path, as /kubexit`,
      2,
    );
  }
  if (basename(executable).startsWith('node')) {
    const fix = 'build it with npm run build and run dist/kubexit install';
    throw new SupervisorError(
      `kubexit install copies the built kubexit executable, and this is kubexit running from source on Node: ${fix}`,
      2,
    );
  }
  await makeDirectory(join(target, 'lib')).catch((error: unknown) => {
    throw new SupervisorError(
      `could not create ${target} (${errorCode(error)}): mount a writable volume there`,
      2,
    );
  });
  const libraries = await bundledLibraries(dirname(executable));
  for (const library of libraries) {
    await copyAtomically(
      await readFile(join(dirname(executable), 'lib', library)),
      join(target, 'lib', library),
    );
  }
  const binary = await readFile(executable);
  const loader = libraries.find((name) => name.startsWith('ld-'));
  const mountPath = (options.mountPath ?? target).replace(/\/+$/, '') || '/';
  if (loader !== undefined) writeInterpreter(binary, `${mountPath}/lib/${loader}`);
  await copyAtomically(binary, join(target, 'kubexit'));
  const kind =
    loader === undefined
      ? 'executable (it needs glibc in the images that run it)'
      : `portable bundle (its loader and ${libraries.length - 1} libraries)`;
  log(
    `installed the kubexit ${kind} into ${target}; containers that mount it at ${mountPath} run ${mountPath}/kubexit`,
  );
  return 0;
}

/** The loader and libraries of a portable bundle next to the executable; none for the plain one. */
async function bundledLibraries(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, 'lib')).catch(() => []);
  return entries.filter((name) => !name.startsWith('.')).sort();
}

async function copyAtomically(content: Buffer, destination: string): Promise<void> {
  try {
    await writeAtomically(dirname(destination), basename(destination), content, 0o755);
  } catch (error) {
    throw new SupervisorError(`could not install ${destination} (${errorCode(error)})`, 1);
  }
}

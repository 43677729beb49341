import { readFile } from 'node:fs/promises';
import { createTwoFilesPatch } from 'diff';
import packageJson from '../../../package.json' with { type: 'json' };
import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';
import { type ImageLookUp, lookUpImages, registryLookUp } from './image-lookup.ts';
import type { ImageCommand } from './images.ts';
import { imagesNeeded, inject } from './inject.ts';
import { MESHES, type Mesh } from './meshes.ts';
import type { InjectOptions } from './plan.ts';
import type { Notice } from './probes.ts';

/** The released image of this very version: what the install init container runs. */
export const IMAGE = `ghcr.io/kubexit/kubexit:${packageJson.version}`;

export interface InjectCommandOptions {
  readonly sidecar: string[];
  readonly mesh?: string;
  readonly entrypoint: string[];
  readonly cmd: string[];
  readonly image: string;
  readonly diff: boolean;
  readonly meshNative?: boolean;
  readonly imageVolume?: boolean;
  readonly nativeSidecars?: boolean;
  readonly podFailurePolicy?: boolean;
  readonly platform: string;
  /** false with --no-registry. */
  readonly registry?: boolean;
}

/**
 * `kubexit inject [files…]`: each file (or stdin) injected, or the diff, to stdout. With --diff,
 * exits 1 when anything would change (as `git diff --exit-code` and `kubectl diff`), 0 and
 * prints nothing otherwise.
 */
export async function runInject(
  files: readonly string[],
  options: InjectCommandOptions,
  write: (text: string) => void,
  readStdin: () => Promise<string> = readAllStdin,
  lookUp: ImageLookUp = registryLookUp(process.env),
): Promise<number> {
  if (options.mesh !== undefined && !(MESHES as readonly string[]).includes(options.mesh))
    throw new SupervisorError(
      `kubexit inject: --mesh ${options.mesh} is not a mesh kubexit knows: use ${MESHES.join(' or ')}`,
      EXIT_CODES.config,
    );
  const entrypoints = imageCommandsOf(options.entrypoint, options.cmd);
  if (options.podFailurePolicy === true && options.nativeSidecars === true)
    throw new SupervisorError(
      'kubexit inject: --pod-failure-policy and --native-sidecars exclude each other: the policy is for kubexit configuration errors, and native sidecars run no kubexit',
      EXIT_CODES.config,
    );
  if (options.imageVolume === true && options.nativeSidecars === true)
    throw new SupervisorError(
      'kubexit inject: --image-volume and --native-sidecars exclude each other: native sidecars need no kubexit',
      EXIT_CODES.config,
    );
  const given = {
    sidecars: options.sidecar,
    mesh: options.mesh as Mesh | undefined,
    meshNative: options.meshNative === true,
    entrypoints,
    platform: options.platform,
    image: options.image,
    imageVolume: options.imageVolume === true,
    nativeSidecars: options.nativeSidecars === true,
    podFailurePolicy: options.podFailurePolicy === true,
  };
  const notice: Notice = (kind, message) =>
    process.stderr.write(`kubexit inject: ${kind}: ${message}\n`);
  const inputs: Array<{ file: string; text: string }> = [];
  for (const file of files.length === 0 ? ['-'] : files)
    inputs.push({ file, text: file === '-' ? await readStdin() : await readInput(file) });
  if (inputs.some(({ file, text }) => file === '-' && text.trim() === ''))
    throw new SupervisorError(
      'kubexit inject: standard input is empty: give the manifest on stdin or as a file argument; with docker run or kubectl run, -i is needed for stdin to reach kubexit',
      EXIT_CODES.config,
    );
  const needs = inputs.flatMap(({ file, text }) =>
    inFile(file, () => imagesNeeded(text, given)).map((need) => ({ ...need, file })),
  );
  const settings: InjectOptions = {
    ...given,
    images: options.registry === false ? new Map() : await lookUpImages(needs, lookUp),
  };
  const outputs: string[] = [];
  let changed = false;
  for (const { file, text: before } of inputs) {
    const after = inFile(file, () => inject(before, settings, notice));
    const label = file === '-' ? 'stdin' : file;
    changed ||= after !== before;
    if (!options.diff) outputs.push(after);
    else if (after !== before) outputs.push(createTwoFilesPatch(label, label, before, after));
  }
  write(options.diff ? outputs.join('') : joinOutputs(outputs));
  return options.diff && changed ? 1 : 0;
}

/** Several files as one stream: YAML documents apart with `---`, JSON objects one after another. */
function joinOutputs(outputs: readonly string[]): string {
  const isJson = (text: string) => /^\s*[{[]/.test(text);
  return outputs
    .map((text, index) => {
      const previous = outputs[index - 1];
      const separated = previous !== undefined && !(isJson(text) && isJson(previous));
      const terminated = previous === undefined || previous.endsWith('\n') ? '' : '\n';
      return index === 0 ? text : `${terminated}${separated ? '---\n' : ''}${text}`;
    })
    .join('');
}

/** A file's errors name the file (stdin's need no name). */
function inFile<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof SupervisorError && file !== '-')
      throw new SupervisorError(
        error.message.replace('kubexit inject: ', `kubexit inject: ${file}: `),
        EXIT_CODES.config,
      );
    throw error;
  }
}

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new SupervisorError(
      `kubexit inject: could not read ${file} (${(error as NodeJS.ErrnoException).code}): give a readable YAML file, or none to read stdin`,
      EXIT_CODES.config,
    );
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `--entrypoint NAME=/path` or `NAME=["program", "arg"…]` (the image's ENTRYPOINT, as a
 * Dockerfile's exec form writes it) and `--cmd NAME=[…]` (its CMD): per container name.
 */
function imageCommandsOf(
  entrypointFlags: readonly string[],
  cmdFlags: readonly string[],
): Map<string, ImageCommand> {
  const entrypoints = new Map(entrypointFlags.map((flag) => argvFlag('--entrypoint', flag, true)));
  const cmds = new Map(cmdFlags.map((flag) => argvFlag('--cmd', flag, false)));
  for (const name of cmds.keys())
    if (!entrypoints.has(name))
      throw new SupervisorError(
        `kubexit inject: --cmd ${name}=… needs --entrypoint ${name}=… too (the image's ENTRYPOINT, [] when it has none): a container given a command replaces both`,
        EXIT_CODES.config,
      );
  return new Map(
    [...entrypoints].map(([name, entrypoint]) => {
      const cmd = cmds.get(name);
      return [name, cmd === undefined ? { entrypoint } : { entrypoint, cmd }];
    }),
  );
}

/** One `NAME=VALUE` flag whose value is a JSON list of strings (or one path, for --entrypoint). */
function argvFlag(flag: string, text: string, pathAllowed: boolean): [string, string[]] {
  const equals = text.indexOf('=');
  const value = text.slice(equals + 1);
  const form = pathAllowed ? 'NAME=/path/to/program or NAME=["program", "arg"]' : 'NAME=["arg", …]';
  const fail = (why: string) =>
    new SupervisorError(`kubexit inject: ${flag} ${text}: ${why}; give ${form}`, EXIT_CODES.config);
  if (equals <= 0 || value === '') throw fail('no container name or no value');
  const name = text.slice(0, equals);
  if (!value.trimStart().startsWith('[')) {
    if (!pathAllowed) throw fail('not a JSON list');
    return [name, [value]];
  }
  let words: unknown;
  try {
    words = JSON.parse(value);
  } catch {
    throw fail('not valid JSON');
  }
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string'))
    throw fail('not a list of strings');
  return [name, words];
}

import { Command, CommanderError } from 'commander';
import { SupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';
import { DEFAULT_GRAVEYARD } from '../core/model/options.ts';
import { IMAGE, type InjectCommandOptions, runInject } from './inject/command.ts';
import { DEFAULT_PLATFORM } from './inject/images.ts';
import { MESHES } from './inject/meshes.ts';
import { install } from './install.ts';

export { copyAsCp } from './copy.ts';

import { redactSecrets } from '../core/model/redact.ts';
import { status } from './status.ts';

/** Runs `kubexit install <dir>` or `kubexit status`; returns the exit code. */
export async function runSubcommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  // What a subcommand says goes out without credentials (core/model/redact.ts); the manifests
  // inject prints are the user's own text plus the wiring, and go out untouched.
  const out = (text: string) => process.stdout.write(redactSecrets(text));
  const raw = (text: string) => process.stdout.write(text);
  let code: Promise<number> = Promise.resolve(0);
  const program = new Command('kubexit')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: () => {} });
  program
    .command('install')
    .description(
      'copy this kubexit (and its libraries) into a directory, such as a shared emptyDir',
    )
    .argument('<dir>', 'where to install; other containers run <mount>/kubexit')
    .action((dir: string) => {
      const log = (line: string) => out(`${line}\n`);
      code = install({ executable: process.execPath, target: dir, log });
    });
  program
    .command('inject')
    .description('wire kubexit into Kubernetes manifests (files, or stdin); writes them to stdout')
    .argument('[files...]', 'YAML (several documents each) or JSON files; none or - reads stdin')
    .option('--sidecar <name>', 'a container to treat as a sidecar (repeatable)', collect, [])
    .option('--mesh <mesh>', `a mesh whose proxy a webhook adds: ${MESHES.join(' or ')}`)
    .option(
      '--mesh-native',
      "the mesh injects its proxy as a native sidecar (the mesh's setting; a pod's annotation wins)",
      false,
    )
    .option(
      '--entrypoint <name=argv>',
      'the ENTRYPOINT of a container\'s image, for a container without command: NAME=/path or NAME=["program", "arg"] (repeatable; otherwise read from the registry)',
      collect,
      [],
    )
    .option(
      '--cmd <name=argv>',
      'the CMD of that image: NAME=["arg", …], [] for none; needed with --entrypoint when the container has no args (repeatable)',
      collect,
      [],
    )
    .option(
      '--platform <os/arch>',
      'the platform whose image is read from an image index, for pods whose nodeSelector names none',
      DEFAULT_PLATFORM,
    )
    .option(
      '--no-registry',
      "never read an image's ENTRYPOINT and CMD from its registry: containers without command need --entrypoint",
    )
    .option(
      '--image <image>',
      "the kubexit image: the install init container's, or the image volume's",
      IMAGE,
    )
    .option(
      '--image-volume',
      'mount the kubexit image as an image volume instead of copying it (Kubernetes 1.33+, ImageVolume feature gate; on by default from 1.35)',
      false,
    )
    .option(
      '--native-sidecars',
      'rewrite the sidecars as native sidecars instead (Kubernetes 1.29+): no kubexit at all',
      false,
    )
    .option(
      '--pod-failure-policy',
      'give Jobs and CronJobs a podFailurePolicy: a kubexit configuration error (exit 2) fails the Job at once, disruptions are not counted (needs restartPolicy Never)',
      false,
    )
    .option(
      '--diff',
      'show what would change instead of the result (exit 1 when anything would)',
      false,
    )
    .action((files: string[], options: InjectCommandOptions) => {
      code = runInject(files, options, raw);
    });
  program
    .command('status')
    .description('show every tombstone in the graveyard')
    .argument('[dir]', 'the graveyard (as --graveyard)')
    .option('--graveyard <dir>', 'the graveyard', env.KUBEXIT_GRAVEYARD || DEFAULT_GRAVEYARD)
    .option('--json', 'print JSON instead of a table', false)
    .action((dir: string | undefined, options: { graveyard: string; json: boolean }) => {
      const graveyard = dir ?? options.graveyard;
      code = status({ ...options, graveyard, now: new Date(), write: out });
    });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return 0;
    throw new SupervisorError(
      `${error.message.replace(/^error: /, '')} (see kubexit ${argv[0]} --help)`,
      EXIT_CODES.config,
    );
  }
  return code;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

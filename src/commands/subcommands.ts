import { Command, CommanderError, Option } from 'commander';
import { SupervisorError } from '../core/model/errors.ts';
import { EXIT_CODES } from '../core/model/exit-codes.ts';
import { DEFAULT_GRAVEYARD } from '../core/model/options.ts';
import { IMAGE, type InjectCommandOptions, runInject } from './inject/command.ts';
import { DEFAULT_PLATFORM } from './inject/images.ts';
import { MESHES } from './inject/meshes.ts';
import { install } from './install.ts';
import type { WebhookCommandOptions } from './webhook/command.ts';

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
  const webhookOption = (flags: string, description: string, env: string, fallback?: string) => {
    const option = new Option(flags, description).env(env);
    return fallback === undefined ? option : option.default(fallback);
  };
  program
    .command('webhook')
    .description(
      'serve a mutating admission webhook: pods made by operators get native sidecars, or kubexit, as inject would wire them',
    )
    .addOption(
      webhookOption(
        '--listen <address>',
        'where to serve HTTPS',
        'KUBEXIT_WEBHOOK_LISTEN',
        ':8443',
      ),
    )
    .addOption(
      webhookOption(
        '--tls-cert-file <file>',
        'the serving certificate (PEM), read again when it changes',
        'KUBEXIT_WEBHOOK_TLS_CERT_FILE',
      ),
    )
    .addOption(
      webhookOption('--tls-key-file <file>', 'its key (PEM)', 'KUBEXIT_WEBHOOK_TLS_KEY_FILE'),
    )
    .addOption(
      webhookOption(
        '--mode <mode>',
        'native, wrap, or auto (native sidecars on Kubernetes 1.29+)',
        'KUBEXIT_WEBHOOK_MODE',
        'auto',
      ),
    )
    .addOption(
      webhookOption(
        '--config <file>',
        'roles and scope (YAML, a mounted ConfigMap), read again when it changes',
        'KUBEXIT_WEBHOOK_CONFIG',
      ),
    )
    .addOption(
      webhookOption(
        '--image <image>',
        'the kubexit image of the installer',
        'KUBEXIT_WEBHOOK_IMAGE',
        IMAGE,
      ),
    )
    .addOption(
      webhookOption(
        '--kubernetes-version <version>',
        "the cluster's version, instead of asking the API server",
        'KUBEXIT_WEBHOOK_KUBERNETES_VERSION',
      ),
    )
    .addOption(
      webhookOption(
        '--namespace <namespace>',
        "the webhook's own namespace, never touched (default: its service account's)",
        'KUBEXIT_WEBHOOK_NAMESPACE',
      ),
    )
    .addOption(
      webhookOption(
        '--registry-timeout <duration>',
        'how long an admission waits for image lookups',
        'KUBEXIT_WEBHOOK_REGISTRY_TIMEOUT',
        '3s',
      ),
    )
    .addOption(
      webhookOption('--log-format <format>', 'text or json', 'KUBEXIT_WEBHOOK_LOG_FORMAT', 'text'),
    )
    .addOption(
      webhookOption(
        '--max-in-flight <n>',
        'admissions answered at once; more get 429',
        'KUBEXIT_WEBHOOK_MAX_IN_FLIGHT',
        '256',
      ),
    )
    .addOption(
      webhookOption(
        '--max-body <bytes>',
        'the largest request body; larger ones get 413',
        'KUBEXIT_WEBHOOK_MAX_BODY',
        '3Mi',
      ),
    )
    .addOption(
      webhookOption(
        '--shutdown-delay <duration>',
        'after SIGTERM, how long /readyz fails before the server stops taking connections',
        'KUBEXIT_WEBHOOK_SHUTDOWN_DELAY',
        '5s',
      ),
    )
    .addOption(
      webhookOption(
        '--drain-timeout <duration>',
        'how long requests in flight get to finish',
        'KUBEXIT_WEBHOOK_DRAIN_TIMEOUT',
        '20s',
      ),
    )
    .addOption(
      webhookOption(
        '--reload-interval <duration>',
        'how often the certificate and configuration files are read again',
        'KUBEXIT_WEBHOOK_RELOAD_INTERVAL',
        '5s',
      ),
    )
    .action(async (options: WebhookCommandOptions) => {
      const { runWebhook } = await import('./webhook/command.ts');
      code = runWebhook(options, env);
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
    await program.parseAsync([...argv], { from: 'user' });
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

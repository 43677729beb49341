/*
 * npm run examples: makes examples/<name>.yaml from examples/plain/<name>.yaml with kubexit
 * inject, as a user would (`kubexit inject plain.yaml > injected.yaml`). A test checks that the
 * two stay in sync.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { IMAGE } from '../src/commands/inject/command.ts';
import { inject } from '../src/commands/inject/inject.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** The example made from one plain manifest, with the line that says where it comes from. */
export function injectedExample(name: string): string {
  const plain = readFileSync(join(EXAMPLES, 'plain', name), 'utf8');
  const injected = inject(plain, { sidecars: [], entrypoints: new Map(), image: IMAGE });
  return `# Made from examples/plain/${name} by kubexit inject (npm run examples): edit that file.\n${injected}`;
}

/** The try-it Job's pod as the Job controller would make it: what `podman kube play` runs. */
export const TRY_IT_POD = 'try-it-pod.yaml';

export function tryItPod(): string {
  const job = parse(readFileSync(join(EXAMPLES, 'try-it-job.yaml'), 'utf8'));
  const template = job.spec.template;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: job.metadata.name, ...template.metadata },
    spec: template.spec,
  };
  const header = [
    '# Made from examples/try-it-job.yaml by npm run examples (its pod template as a Pod): edit that file.',
    '# For Podman, which runs Pods: podman kube play examples/try-it-pod.yaml (docs/try-it.md).',
  ];
  return `${header.join('\n')}\n${stringify(pod)}`;
}

export function plainExamples(): string[] {
  return readdirSync(join(EXAMPLES, 'plain')).filter((name) => name.endsWith('.yaml'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of plainExamples()) {
    writeFileSync(join(EXAMPLES, name), injectedExample(name));
    process.stdout.write(`examples/${name}\n`);
  }
  writeFileSync(join(EXAMPLES, TRY_IT_POD), tryItPod());
  process.stdout.write(`examples/${TRY_IT_POD}\n`);
}

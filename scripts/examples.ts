/*
 * npm run examples: makes examples/<name>.yaml from examples/plain/<name>.yaml with kubexit
 * inject, as a user would (`kubexit inject plain.yaml > injected.yaml`). A test checks that the
 * two stay in sync.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from '../src/commands/inject.ts';
import { IMAGE } from '../src/commands/inject-command.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** The example made from one plain manifest, with the line that says where it comes from. */
export function injectedExample(name: string): string {
  const plain = readFileSync(join(EXAMPLES, 'plain', name), 'utf8');
  const injected = inject(plain, { sidecars: [], entrypoints: new Map(), image: IMAGE });
  return `# Made from examples/plain/${name} by kubexit inject (npm run examples): edit that file.\n${injected}`;
}

export function plainExamples(): string[] {
  return readdirSync(join(EXAMPLES, 'plain')).filter((name) => name.endsWith('.yaml'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of plainExamples()) {
    writeFileSync(join(EXAMPLES, name), injectedExample(name));
    process.stdout.write(`examples/${name}\n`);
  }
}

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

/*
 * The layers, as src/ shows them: core/model (the vocabulary: options, configuration, tombstones,
 * checks, signals, exit codes), core/life (a container's life, on the model and the ports),
 * core/ports.ts (what the core needs of the world), adapters (the world), commands and cli, and
 * entry (the composition root). Checked on every import, static or dynamic.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module a file imports: relative ones as paths under src/, others by name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] ?? '');
  return specs.map((spec) =>
    spec.startsWith('.') ? relative(SRC, normalize(join(dirname(file), spec))) : spec,
  );
}

const graph = new Map(sources(SRC).map((file) => [relative(SRC, file), importsOf(file)]));

t.test('the core imports only itself, and yaml', async (t) => {
  for (const [file, imports] of graph)
    if (file.startsWith('core/'))
      for (const spec of imports)
        t.ok(spec.startsWith('core/') || spec === 'yaml', `${file} imports ${spec}`);
});

t.test(
  "the model doesn't know the life: core/model imports neither core/life nor the ports",
  async (t) => {
    for (const [file, imports] of graph)
      if (file.startsWith('core/model/'))
        for (const spec of imports)
          t.notOk(
            spec.startsWith('core/life/') || spec === 'core/ports.ts',
            `${file} imports ${spec}`,
          );
  },
);

t.test(
  'only the composition root and the commands wire adapters; adapters never import commands, cli or entry',
  async (t) => {
    for (const [file, imports] of graph) {
      if (file.startsWith('adapters/'))
        for (const spec of imports)
          t.notOk(/^(commands|cli|entry)\//.test(spec), `${file} imports ${spec}`);
      if (file.startsWith('core/'))
        for (const spec of imports)
          t.notOk(spec.startsWith('adapters/'), `${file} imports ${spec}`);
    }
  },
);

t.test('no import cycles', async (t) => {
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const spec of graph.get(file) ?? []) if (graph.has(spec)) visit(spec, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  t.same(cycles, []);
});

t.test('src/ shows its layers: no loose files', async (t) => {
  t.same(
    readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => !entry.isDirectory())
      .map((entry) => entry.name),
    [],
  );
});

t.test(
  'one place decides who writes a tombstone: writers are made only by the name claim',
  async (t) => {
    const makers = [...graph.keys()].filter((file) =>
      /new TombstoneWriter\(/.test(readFileSync(join(SRC, file), 'utf8')),
    );
    t.same(makers, ['core/life/name-claim.ts']);
  },
);

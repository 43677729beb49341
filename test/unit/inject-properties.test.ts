import fc from 'fast-check';
import t from 'tap';
import { inject } from '../../src/commands/inject/inject.ts';
import type { InjectOptions } from '../../src/commands/inject/plan.ts';
import { linesLost, patchProblems, rootsOf, wiringProblems } from '../helpers/inject-checks.ts';

/**
 * inject over generated layouts of a pod: key order, env / volumeMounts / args present or absent
 * and last or not, block and flow style, indentation (kubectl's lists at the key's column or
 * indented), comments, CRLF line ends, anchors. Whatever the layout, every added field lands at its
 * path (the parsed output is the input with the plan's JSON Patch applied), no line of the input
 * is lost, the line ends stay the file's own, the wiring is sound, and a second run changes nothing.
 */

type YNode =
  | { readonly t: 's'; readonly v: string }
  | { readonly t: 'l'; readonly flow: boolean; readonly items: readonly YNode[] }
  | {
      readonly t: 'm';
      readonly flow: boolean;
      readonly entries: ReadonlyArray<readonly [string, YNode, string]>;
    };

interface Style {
  readonly step: number;
  readonly listIndent: number;
}

const scalar = (v: string): YNode => ({ t: 's', v });

function inline(node: YNode): string {
  if (node.t === 's') return node.v;
  if (node.t === 'l') return `[${node.items.map(inline).join(', ')}]`;
  return `{${node.entries.map(([k, v]) => `${k}: ${inline(v)}`).join(', ')}}`;
}

function isBlock(node: YNode): boolean {
  return (
    node.t !== 's' && !node.flow && (node.t === 'l' ? node.items.length : node.entries.length) > 0
  );
}

/** A block map's lines at `indent`; the first line's indentation may be taken by a list's dash. */
function mapLines(node: YNode & { t: 'm' }, indent: number, style: Style): string[] {
  const pad = ' '.repeat(indent);
  return node.entries.flatMap(([key, value, comment]) => {
    const note = comment === '' ? '' : `  # ${comment}`;
    if (!isBlock(value)) return [`${pad}${key}: ${inline(value)}${note}`];
    const under =
      value.t === 'm'
        ? mapLines(value, indent + style.step, style)
        : listLines(value as YNode & { t: 'l' }, indent + style.listIndent, style);
    return [`${pad}${key}:${note}`, ...under];
  });
}

function listLines(node: YNode & { t: 'l' }, indent: number, style: Style): string[] {
  const pad = ' '.repeat(indent);
  return node.items.flatMap((item) => {
    if (!isBlock(item)) return [`${pad}- ${inline(item)}`];
    const [first = '', ...rest] = mapLines(item as YNode & { t: 'm' }, indent + 2, style);
    return [`${pad}- ${first.trimStart()}`, ...rest];
  });
}

const flow = fc.boolean();
const word = fc.constantFrom('alpha', 'beta', '--verbose', '/data', 'x1');
const comment = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constant('set by the team') },
);

const envList = fc
  .tuple(flow, fc.array(fc.constantFrom('LOG_LEVEL', 'REGION', 'MODE'), { maxLength: 2 }))
  .map(
    ([isFlow, names]): YNode => ({
      t: 'l',
      flow: isFlow || names.length === 0,
      items: [...new Set(names)].map((name) => ({
        t: 'm',
        flow: isFlow,
        entries: [
          ['name', scalar(name), ''],
          ['value', scalar('"1"'), ''],
        ],
      })),
    }),
  );

const mountList = fc.tuple(flow, flow).map(
  ([isFlow, itemFlow]): YNode => ({
    t: 'l',
    flow: isFlow,
    items: [
      {
        t: 'm',
        flow: isFlow || itemFlow,
        entries: [
          ['name', scalar('data'), ''],
          ['mountPath', scalar('/data'), ''],
        ],
      },
    ],
  }),
);

const argv = fc
  .tuple(flow, fc.array(word, { minLength: 1, maxLength: 3 }))
  .map(([isFlow, words]): YNode => ({ t: 'l', flow: isFlow, items: words.map(scalar) }));

interface ContainerSpec {
  readonly name: string;
  readonly sidecar: boolean;
  readonly node: YNode & { t: 'm' };
}

/** One container: its keys in any order, each optional one present or not, in either style. */
function container(name: string, sidecar: boolean) {
  return fc
    .record({
      command: sidecar
        ? argv.map((v) => v as YNode | undefined)
        : fc.option(argv, { nil: undefined }),
      args: fc.option(argv, { nil: undefined }),
      env: fc.option(envList, { nil: undefined }),
      volumeMounts: fc.option(mountList, { nil: undefined }),
      probe: sidecar ? fc.option(flow, { nil: undefined }) : fc.constant(undefined),
      order: fc.array(fc.integer(), { minLength: 8, maxLength: 8 }),
      comments: fc.array(comment, { minLength: 8, maxLength: 8 }),
    })
    .map(({ command, args, env, volumeMounts, probe, order, comments }): ContainerSpec => {
      const entries: Array<readonly [string, YNode, string]> = [
        ['name', scalar(name), ''],
        ['image', scalar(`registry.example/${name}:1`), ''],
      ];
      if (command !== undefined) entries.push(['command', command, '']);
      if (args !== undefined) entries.push(['args', args, '']);
      if (env !== undefined) entries.push(['env', env, '']);
      if (volumeMounts !== undefined) entries.push(['volumeMounts', volumeMounts, '']);
      if (probe !== undefined)
        entries.push([
          'readinessProbe',
          {
            t: 'm',
            flow: probe,
            entries: [
              ['tcpSocket', { t: 'm', flow: true, entries: [['port', scalar('5432'), '']] }, ''],
            ],
          },
          '',
        ]);
      const sorted = entries
        .map((entry, index) => ({ entry, key: order[index] ?? 0 }))
        .sort((a, b) => a.key - b.key)
        .map(({ entry }, index) => [entry[0], entry[1], comments[index] ?? ''] as const);
      return { name, sidecar, node: { t: 'm', flow: false, entries: sorted } };
    });
}

const layout = fc
  .record({
    kind: fc.constantFrom('Pod', 'Job'),
    restartPolicy: fc.constantFrom('Never', 'OnFailure'),
    step: fc.constantFrom(2, 4),
    kubectlLists: fc.boolean(),
    crlf: fc.boolean(),
    mains: fc.integer({ min: 1, max: 2 }),
    sidecars: fc.integer({ min: 0, max: 2 }),
    volumes: fc.option(flow, { nil: undefined }),
    anchoredImage: fc.boolean(),
  })
  .chain((shape) =>
    fc
      .tuple(
        ...Array.from({ length: shape.mains }, (_, i) => container(`main${i}`, false)),
        ...Array.from({ length: shape.sidecars }, (_, i) => container(`side${i}`, true)),
      )
      .map((containers) => ({ ...shape, containers })),
  );

function render(shape: fc.Arbitrary<unknown> extends never ? never : Layout): string {
  const style: Style = { step: shape.step, listIndent: shape.kubectlLists ? 0 : shape.step };
  const containers = shape.containers.map((c, index) => {
    if (!shape.anchoredImage || shape.containers.length < 2 || index > 1) return c.node;
    // An anchored scalar used again: inject edits neither, so both stay as they are.
    const entries = c.node.entries.map(([key, value, note]) =>
      key === 'image'
        ? ([key, scalar(index === 0 ? `&img ${inline(value)}` : '*img'), note] as const)
        : ([key, value, note] as const),
    );
    return { ...c.node, entries };
  });
  const spec: YNode & { t: 'm' } = {
    t: 'm',
    flow: false,
    entries: [
      ['restartPolicy', scalar(shape.restartPolicy), ''],
      ['containers', { t: 'l', flow: false, items: containers }, 'the pod'],
      ...(shape.volumes === undefined
        ? []
        : ([
            [
              'volumes',
              {
                t: 'l',
                flow: shape.volumes,
                items: [
                  {
                    t: 'm',
                    flow: true,
                    entries: [
                      ['name', scalar('data'), ''],
                      ['emptyDir', { t: 'm', flow: true, entries: [] }, ''],
                    ],
                  },
                ],
              },
              '',
            ],
          ] as const)),
    ],
  };
  const metadata: YNode = { t: 'm', flow: false, entries: [['name', scalar('generated'), '']] };
  const pod: Array<readonly [string, YNode, string]> =
    shape.kind === 'Pod'
      ? [
          ['apiVersion', scalar('v1'), ''],
          ['kind', scalar('Pod'), ''],
          ['metadata', metadata, ''],
          ['spec', spec, ''],
        ]
      : [
          ['apiVersion', scalar('batch/v1'), ''],
          ['kind', scalar('Job'), ''],
          ['metadata', metadata, ''],
          [
            'spec',
            {
              t: 'm',
              flow: false,
              entries: [['template', { t: 'm', flow: false, entries: [['spec', spec, '']] }, '']],
            },
            '',
          ],
        ];
  const lines = ['# generated', ...mapLines({ t: 'm', flow: false, entries: pod }, 0, style)];
  return lines.join(shape.crlf ? '\r\n' : '\n') + (shape.crlf ? '\r\n' : '\n');
}

type Layout = {
  kind: string;
  restartPolicy: string;
  step: number;
  kubectlLists: boolean;
  crlf: boolean;
  volumes: boolean | undefined;
  anchoredImage: boolean;
  containers: ContainerSpec[];
};

function optionsFor(shape: Layout): InjectOptions {
  const sidecars = shape.containers.filter((c) => c.sidecar).map((c) => c.name);
  const entrypoints = new Map(
    shape.containers
      .filter((c) => !c.node.entries.some(([key]) => key === 'command'))
      .map((c) => [c.name, { entrypoint: ['/entry', c.name], cmd: ['from-image'] }]),
  );
  return { sidecars, entrypoints, image: 'ghcr.io/kubexit/kubexit:0.1.0' };
}

t.test(
  'every generated layout: fields at their paths, lines kept, line ends kept, idempotent',
  async (t) => {
    fc.assert(
      fc.property(layout, (generated) => {
        const shape = generated as unknown as Layout;
        const input = render(shape);
        const options = optionsFor(shape);
        const output = inject(input, options);
        const problems = [
          ...patchProblems(input, output, options),
          ...wiringProblems(input, output, options),
          ...linesLost(input.replaceAll('\r', ''), output.replaceAll('\r', '')).map(
            (line) => `line lost: ${line}`,
          ),
          ...(inject(output, options) === output ? [] : ['a second run changed it']),
          ...(shape.crlf && /(^|[^\r])\n/.test(output) ? ['a bare LF in a CRLF file'] : []),
          ...(rootsOf(output).length === 1 ? [] : ['not one document']),
        ];
        if (problems.length > 0)
          throw new Error(`${problems.join('\n')}\n--- input\n${input}--- output\n${output}`);
      }),
      { numRuns: 300 },
    );
    t.pass('300 layouts');
  },
);

t.test('an anchored list used again elsewhere is refused, never edited twice over', async (t) => {
  const input = [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: p}',
    'spec:',
    '  restartPolicy: Never',
    '  containers:',
    '    - name: app',
    '      image: a',
    '      command: [a]',
    '      env: &common',
    '        - {name: X, value: "1"}',
    '    - name: proxy',
    '      image: b',
    '      command: [b]',
    '      env: *common',
    '',
  ].join('\n');
  t.throws(() => inject(input, { sidecars: ['proxy'], entrypoints: new Map(), image: 'k' }), {
    message:
      /containers\[0\]\.env is anchored \(&common\) and used again as \*common: an edit here would change both; expand the alias/,
    exitCode: 2,
  });
  const merged = input
    .replace('    - name: proxy\n', '    - <<: {command: [b]}\n      name: proxy\n')
    .replace('      command: [b]\n      env: *common\n', '');
  t.throws(
    () =>
      inject(merged.replace('env: &common', 'env:'), {
        sidecars: ['proxy'],
        entrypoints: new Map(),
        image: 'k',
      }),
    { message: /containers\[1\]\.command comes from a YAML merge key \(<<\)/, exitCode: 2 },
  );
});

import jsonPatch from 'fast-json-patch';
import { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Pod } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { imageKey, platformOf } from '../../src/commands/inject/images.ts';
import { inject, injectPatch } from '../../src/commands/inject/inject.ts';
import type { InjectOptions } from '../../src/commands/inject/plan.ts';

/**
 * What every manifest inject writes must satisfy, whatever its source: the checks of the golden
 * cases, the corpus of real manifests and the generated layouts. Each returns the problems found
 * (empty when none), so that a test names them all at once.
 */

type Data = Record<string, unknown>;
export interface Wired {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  env?: Array<Record<string, unknown>>;
  volumeMounts?: Array<{ mountPath?: string; name?: string }>;
}
export interface WiredSpec {
  containers: Wired[];
  initContainers?: Wired[];
  volumes?: Array<Data & { name: string }>;
}

/** Schema models by apiVersion/kind (a custom resource of another group is not validated). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Pod': Pod,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/ReplicaSet': ReplicaSet,
};

/** The top-level objects of a stream (YAML documents, or a JSON value). */
export function rootsOf(text: string): unknown[] {
  return /^\s*[{[]/.test(text)
    ? [JSON.parse(text)]
    : parseAllDocuments(text, { merge: true }).map((document) => document.toJS());
}

/** The objects of a stream, List items included. */
export function objectsOf(text: string): Array<Data & { kind?: string }> {
  return rootsOf(text).flatMap((root) =>
    (root as Data | null)?.kind === 'List' ? ((root as Data).items as Data[]) : [root as Data],
  );
}

/** Pod specs of the kinds inject injects, in order. */
export function podSpecs(text: string): WiredSpec[] {
  return objectsOf(text).flatMap((object) => {
    const spec = podSpecOf(object);
    return spec === undefined ? [] : [spec];
  });
}

function podSpecOf(object: Data | null): WiredSpec | undefined {
  type Templated = {
    kind?: string;
    apiVersion?: string;
    spec?: WiredSpec & {
      template?: { spec: WiredSpec };
      jobTemplate?: { spec: { template: { spec: WiredSpec } } };
    };
  };
  const doc = object as Templated | null;
  if (doc?.kind === 'Pod') return doc.spec;
  if (!MODELS[`${doc?.apiVersion}/${doc?.kind}`]) return undefined;
  return doc?.spec?.jobTemplate?.spec.template.spec ?? doc?.spec?.template?.spec;
}

/**
 * Every line of `before` is still in `after`, in order, unchanged or with text inserted into it
 * (kubexit put first in a command, an item added to a list written on one line).
 */
export function linesLost(before: string, after: string): string[] {
  const lines = after.split('\n');
  const kept = (line: string, candidate: string) => {
    let at = 0;
    for (const character of candidate) if (character === line[at]) at++;
    return at === line.length;
  };
  let at = 0;
  const missing: string[] = [];
  for (const line of before.split('\n')) {
    const found = lines.findIndex((candidate, index) => index >= at && kept(line, candidate));
    if (found < 0) missing.push(line);
    else at = found + 1;
  }
  return missing;
}

/** Objects of known kinds that the Kubernetes schema refuses, with why. */
export function schemaProblems(text: string): string[] {
  return objectsOf(text).flatMap((doc) => {
    const Model = MODELS[`${doc?.apiVersion}/${doc?.kind}`];
    if (Model === undefined) return [];
    try {
      new Model(doc as never).validate();
      return [];
    } catch (error) {
      return [`${doc.kind}: ${(error as Error).message.slice(0, 300)}`];
    }
  });
}

const KUBEXIT = '/kubexit/kubexit';
const isProxy = (c: Wired) =>
  ['istio-proxy', 'linkerd-proxy'].includes(c.name) ||
  /(^|\/)(proxyv2|linkerd\/proxy)(:|@|$)/.test(c.image ?? '');
const envOf = (c: Wired, name: string) => c.env?.find((e) => e.name === name)?.value;

/**
 * The wiring of each pod makes sense: mounts under volumeMounts, no two containers with one
 * KUBEXIT_NAME, proxies unwrapped, no shutdown call past a native proxy, kubexit installed (or
 * mounted from its image) wherever it is run, and a container that had no command still runs
 * its image's CMD (or its own args).
 */
export function wiringProblems(input: string, output: string, options: InjectOptions): string[] {
  const before = podSpecs(input);
  return podSpecs(output).flatMap((spec, index) => {
    const problems: string[] = [];
    const all = [...(spec.initContainers ?? []), ...spec.containers];
    const names = spec.containers
      .map((c) => envOf(c, 'KUBEXIT_NAME'))
      .filter((name) => name !== undefined);
    if (new Set(names).size !== names.length) problems.push(`one KUBEXIT_NAME twice: ${names}`);
    for (const c of all) {
      if ((c.env ?? []).some((entry) => 'mountPath' in entry))
        problems.push(`${c.name}: a mount written into env`);
      if (isProxy(c) && c.command?.[0] === KUBEXIT) problems.push(`${c.name}: a proxy wrapped`);
      if (c.command?.[0] === KUBEXIT && !c.volumeMounts?.some((m) => m.mountPath === '/kubexit'))
        problems.push(`${c.name}: runs kubexit without mounting it`);
    }
    const wrapped = spec.containers.some((c) => c.command?.[0] === KUBEXIT);
    const installed =
      (spec.initContainers ?? []).some(
        (c) => c.name === 'kubexit-install' || /kubexit/.test(`${c.command} ${c.args}`),
      ) || (spec.volumes ?? []).some((v) => v.name === 'kubexit' && 'image' in v);
    if (wrapped && !installed) problems.push('kubexit run, but nothing installs it');
    const nativeProxy = (spec.initContainers ?? []).some(
      (c) => isProxy(c) && c.restartPolicy === 'Always',
    );
    if (nativeProxy && spec.containers.some((c) => envOf(c, 'KUBEXIT_SHUTDOWN_URLS') !== undefined))
      problems.push('a shutdown call to a native proxy');
    const original = before[index];
    for (const c of spec.containers) {
      const was = original?.containers.find((o) => o.name === c.name);
      if (was === undefined || (was.command ?? []).length > 0 || c.command?.[0] !== KUBEXIT)
        continue;
      const known =
        options.entrypoints.get(c.name) ??
        options.images?.get(
          imageKey(String(was.image), platformOf(original as never, options.platform)),
        );
      const expected = (was.args ?? []).length > 0 ? was.args : known?.cmd;
      if (JSON.stringify(c.args ?? []) !== JSON.stringify(expected ?? []))
        problems.push(
          `${c.name}: runs ${JSON.stringify(c.args)}, not ${JSON.stringify(expected)} (its args, or its image's CMD)`,
        );
    }
    return problems;
  });
}

/**
 * The plan of each object as a JSON Patch (what the webhook answers), applied by an RFC 6902
 * library to the object, gives the object inject wrote into the text.
 */
export function patchProblems(input: string, output: string, options: InjectOptions): string[] {
  const outputs = rootsOf(output);
  return rootsOf(input).flatMap((root, index) => {
    if (root === null || typeof root !== 'object') return [];
    const patch = injectPatch(root, options);
    const patched = jsonPatch.applyPatch(
      structuredClone(root),
      patch as never,
      true,
      false,
    ).newDocument;
    return sameJson(patched, outputs[index])
      ? []
      : [`object ${index + 1}: the JSON Patch gives another object than the text`];
  });
}

function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => key in b && sameJson((a as Data)[key], (b as Data)[key]))
    );
  }
  return a === b;
}

/** Injects and checks everything above; returns the output and the problems found. */
export function injectChecked(
  input: string,
  options: InjectOptions,
  exempt: (line: string) => boolean = () => false,
): { output: string; problems: string[] } {
  const output = inject(input, options);
  const problems = [
    ...(inject(output, options) === output ? [] : ['injecting again changes the output']),
    // JSON is printed again as JSON in its indentation (docs/inject.md): its lines are not kept.
    ...(options.nativeSidecars === true || /^\s*[{[]/.test(input)
      ? []
      : linesLost(input, output)
          .filter((line) => !exempt(line))
          .map((line) => `line lost: ${JSON.stringify(line)}`)),
    ...schemaProblems(output),
    ...wiringProblems(input, output, options),
    ...patchProblems(input, output, options),
  ];
  return { output, problems };
}

import { type Document, isMap, isSeq, parseAllDocuments, type YAMLMap, type YAMLSeq } from 'yaml';
import { SupervisorError } from '../core/errors.ts';

/**
 * `kubexit inject`: wires kubexit into Kubernetes manifests, the edit users otherwise make by
 * hand in every container (and where a missing death dependency is a Job that hangs).
 *
 * Works on the YAML documents themselves (the yaml package's Document API), so comments, key
 * order and every unrelated field stay as they were; only what kubexit needs is added, and only
 * where it is missing, so that injecting an injected manifest changes nothing.
 */
export interface InjectOptions {
  /** Containers to treat as sidecars, besides the pod's annotation and the known proxies. */
  readonly sidecars: readonly string[];
  /** A mesh whose proxy a webhook adds later; otherwise read from the pod's annotations. */
  readonly mesh?: Mesh;
  /** container name → the command its image runs, for containers without `command`. */
  readonly entrypoints: ReadonlyMap<string, string>;
  /** The kubexit image of the install init container. */
  readonly image: string;
}

export type Mesh = 'istio' | 'linkerd';
export const MESHES: readonly Mesh[] = ['istio', 'linkerd'];

/** A warning about a document that was still injected (a probe that can't become a check). */
export type Warn = (message: string) => void;

const KUBEXIT = '/kubexit/kubexit';
const GRAVEYARD_VOLUME = 'kubexit-graveyard';
const KUBEXIT_VOLUME = 'kubexit';
const INIT_CONTAINER = 'kubexit-install';
export const SIDECARS_ANNOTATION = 'kubexit.io/sidecars';

/** Proxies recognised by image: sidecars without being named. */
const KNOWN_PROXIES: ReadonlyArray<RegExp> = [
  /(^|\/)cloud-sql-proxy(:|@|$)/,
  /(^|\/)gce-proxy(:|@|$)/,
  /(^|\/)alloydb-auth-proxy(:|@|$)/,
  /(^|\/)pgbouncer(:|@|$)/,
  /(^|\/)envoy(:|@|$)/,
];

/** What a mesh's proxy offers the containers kubexit wraps: when it is ready, how to stop it. */
const MESH_WIRING: Readonly<Record<Mesh, { ready: string; shutdown: string }>> = {
  istio: { ready: 'http://127.0.0.1:15021/healthz/ready', shutdown: 'istio' },
  linkerd: { ready: 'http://127.0.0.1:4191/ready', shutdown: 'linkerd' },
};

/** Injects kubexit into every pod template of a YAML stream; other documents pass untouched. */
export function inject(text: string, options: InjectOptions, warn: Warn = () => {}): string {
  const documents = parseAllDocuments(text);
  const unknownSidecars = new Set(options.sidecars);
  const unknownEntrypoints = new Set(options.entrypoints.keys());
  for (const [index, document] of documents.entries()) {
    const where = `document ${index + 1}`;
    if (document.errors.length > 0)
      throw injectError(`${where} is not valid YAML: ${document.errors[0]?.message}`);
    const template = podTemplateOf(document);
    if (template === undefined) continue;
    const named = `${where} (${describe(document)})`;
    const names = containersOf(template.spec, 'containers').map(nameOf);
    for (const name of names) {
      unknownSidecars.delete(name);
      unknownEntrypoints.delete(name);
    }
    injectPod(document, template, options, named, warn);
  }
  if (unknownSidecars.size > 0)
    throw injectError(
      `--sidecar ${[...unknownSidecars].join(', ')}: no such container in any pod; name containers of spec.containers`,
    );
  if (unknownEntrypoints.size > 0)
    throw injectError(
      `--entrypoint ${[...unknownEntrypoints].join(', ')}: no such container in any pod`,
    );
  return documents
    .map((document) => document.toString({ lineWidth: 0, flowCollectionPadding: false }))
    .join('');
}

interface PodTemplate {
  /** The pod's metadata (annotations, labels), when it has any. */
  readonly metadata: YAMLMap | undefined;
  readonly spec: YAMLMap;
}

/** A Pod's spec, or the pod template of a Job, CronJob, Deployment, StatefulSet… */
function podTemplateOf(document: Document): PodTemplate | undefined {
  const root = document.contents;
  if (!isMap(root)) return undefined;
  if (root.get('kind') === 'Pod') {
    const spec = root.get('spec');
    return isMap(spec) ? { metadata: mapAt(root, 'metadata'), spec } : undefined;
  }
  for (const path of [
    ['spec', 'template'],
    ['spec', 'jobTemplate', 'spec', 'template'],
  ]) {
    const template = root.getIn(path);
    if (!isMap(template)) continue;
    const spec = template.get('spec');
    if (isMap(spec) && isSeq(spec.get('containers')))
      return { metadata: mapAt(template, 'metadata'), spec };
  }
  return undefined;
}

function injectPod(
  document: Document,
  template: PodTemplate,
  options: InjectOptions,
  where: string,
  warn: Warn,
): void {
  const containers = containersOf(template.spec, 'containers');
  const annotated = annotationOf(template.metadata, SIDECARS_ANNOTATION)
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const names = containers.map(nameOf);
  for (const name of annotated ?? [])
    if (!names.includes(name))
      throw injectError(
        `${where}: ${SIDECARS_ANNOTATION} names ${name}, which is not one of its containers (${names.join(', ')})`,
      );
  const isSidecar = (container: YAMLMap) =>
    options.sidecars.includes(nameOf(container)) ||
    (annotated ?? []).includes(nameOf(container)) ||
    KNOWN_PROXIES.some((pattern) => pattern.test(String(container.get('image') ?? '')));
  const sidecars = containers.filter(isSidecar);
  const mains = containers.filter((container) => !isSidecar(container));
  if (mains.length === 0)
    throw injectError(
      `${where}: every container is a sidecar (${names.join(', ')}); at least one must be a main container, whose end ends the pod`,
    );
  const mesh = options.mesh ?? meshOf(template.metadata);
  const readyChecks = new Map(
    sidecars.map((sidecar) => [nameOf(sidecar), readyCheckOf(sidecar, where, warn)]),
  );
  // A sidecar has readiness when its probe became a check, or it already sets one itself.
  const ready = sidecars
    .filter(
      (sidecar) =>
        readyChecks.get(nameOf(sidecar)) !== undefined || hasEnv(sidecar, 'KUBEXIT_READY_CHECK'),
    )
    .map(nameOf);
  const mainNames = mains.map(nameOf);
  for (const container of containers) wrap(document, container, options, where);
  for (const main of mains) {
    const birth = [...ready, ...(mesh === undefined ? [] : [MESH_WIRING[mesh].ready])];
    setEnv(document, main, 'KUBEXIT_NAME', nameOf(main));
    if (birth.length > 0) setEnv(document, main, 'KUBEXIT_BIRTH_DEPS', birth.join(','));
    if (mesh !== undefined)
      setEnv(document, main, 'KUBEXIT_SHUTDOWN_URLS', MESH_WIRING[mesh].shutdown);
  }
  for (const sidecar of sidecars) {
    setEnv(document, sidecar, 'KUBEXIT_NAME', nameOf(sidecar));
    const check = readyChecks.get(nameOf(sidecar));
    if (check !== undefined) setEnv(document, sidecar, 'KUBEXIT_READY_CHECK', check);
    setEnv(document, sidecar, 'KUBEXIT_DEATH_DEPS', mainNames.join(','));
    // Only once every main container has ended: with `any`, the first to end would stop the
    // sidecar under the others.
    if (mains.length > 1) setEnv(document, sidecar, 'KUBEXIT_DEATH_DEPS_POLICY', 'all');
  }
  // A pod whose kubelet restarts failed containers: a failed main must find its sidecars (and its
  // proxy) still there when it is restarted, so only a success ends them.
  const restartPolicy = String(template.spec.get('restartPolicy') ?? 'Always');
  if (restartPolicy !== 'Never')
    for (const container of containers)
      setEnv(document, container, 'KUBEXIT_RESTART_POLICY', restartPolicy);
  for (const container of containers) {
    addMount(document, container, GRAVEYARD_VOLUME, '/graveyard');
    addMount(document, container, KUBEXIT_VOLUME, '/kubexit');
  }
  addVolume(document, template.spec, { name: GRAVEYARD_VOLUME, emptyDir: { medium: 'Memory' } });
  addVolume(document, template.spec, { name: KUBEXIT_VOLUME, emptyDir: {} });
  addInstaller(document, template.spec, options.image);
}

/** Prefixes the container's command with kubexit, once. */
function wrap(document: Document, container: YAMLMap, options: InjectOptions, where: string): void {
  const name = nameOf(container);
  const command = container.get('command');
  if (isSeq(command)) {
    if (command.items.length > 0 && scalarValue(command.items[0]) === KUBEXIT) return;
    command.items.unshift(document.createNode(KUBEXIT));
    return;
  }
  const entrypoint = options.entrypoints.get(name);
  if (entrypoint === undefined)
    throw injectError(
      `${where}: container ${name} has no command, so the program its image runs is not known here; give it: --entrypoint ${name}=/path/to/its/command (its image's ENTRYPOINT; args stay as they are)`,
    );
  const node = document.createNode([KUBEXIT, entrypoint]);
  node.flow = true;
  container.set('command', node);
}

/** A sidecar's readinessProbe as a kubexit ready check: readiness without API access or RBAC. */
function readyCheckOf(container: YAMLMap, where: string, warn: Warn): string | undefined {
  const probe = container.get('readinessProbe');
  if (!isMap(probe)) return undefined;
  const name = nameOf(container);
  const tcp = probe.get('tcpSocket');
  if (isMap(tcp)) return `tcp://${hostOf(tcp)}:${portOf(container, tcp, where)}`;
  const http = probe.get('httpGet');
  if (isMap(http)) {
    const scheme = String(http.get('scheme') ?? 'HTTP').toLowerCase();
    const path = String(http.get('path') ?? '/');
    return `${scheme}://${hostOf(http)}:${portOf(container, http, where)}${path.startsWith('/') ? '' : '/'}${path}`;
  }
  const exec = probe.get('exec');
  if (isMap(exec)) {
    const command = exec.get('command');
    if (isSeq(command) && command.items.length > 0)
      return `exec:${JSON.stringify(command.items.map(scalarValue))}`;
  }
  warn(
    `${where}: the readinessProbe of ${name} (grpc, or empty) has no kubexit ready check; the main containers won't wait for ${name}`,
  );
  return undefined;
}

function hostOf(action: YAMLMap): string {
  const host = action.get('host');
  return host === undefined || host === '' ? 'localhost' : String(host);
}

/** A probe's port: a number, or the name of one of the container's ports. */
function portOf(container: YAMLMap, action: YAMLMap, where: string): number {
  const port = action.get('port');
  if (typeof port === 'number') return port;
  const ports = container.get('ports');
  const named = isSeq(ports)
    ? ports.items.find((item) => isMap(item) && item.get('name') === port)
    : undefined;
  const number = isMap(named) ? named.get('containerPort') : undefined;
  if (typeof number === 'number') return number;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  throw injectError(
    `${where}: the readinessProbe of ${nameOf(container)} names port ${JSON.stringify(port)}, which none of its ports is called`,
  );
}

function hasEnv(container: YAMLMap, name: string): boolean {
  const env = container.get('env');
  return isSeq(env) && env.items.some((item) => isMap(item) && item.get('name') === name);
}

function setEnv(document: Document, container: YAMLMap, name: string, value: string): void {
  // The user's own setting stays: inject only adds what is missing.
  addOnce(document, container, 'env', (item) => item.get('name') === name, { name, value });
}

function addMount(document: Document, container: YAMLMap, volume: string, path: string): void {
  addOnce(document, container, 'volumeMounts', (item) => item.get('mountPath') === path, {
    name: volume,
    mountPath: path,
  });
}

function addVolume(
  document: Document,
  spec: YAMLMap,
  volume: { name: string } & Record<string, unknown>,
): void {
  addOnce(document, spec, 'volumes', (item) => item.get('name') === volume.name, volume);
}

/** The init container that copies kubexit into the shared volume (`kubexit install`). */
function addInstaller(document: Document, spec: YAMLMap, image: string): void {
  const installer = document.createNode({
    name: INIT_CONTAINER,
    image,
    args: ['install', '/kubexit'],
    volumeMounts: [{ name: KUBEXIT_VOLUME, mountPath: '/kubexit' }],
    // What the restricted Pod Security Standard asks of every container.
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  }) as YAMLMap;
  for (const path of [['args'], ['securityContext', 'capabilities', 'drop']]) {
    const sequence = installer.getIn(path);
    if (isSeq(sequence)) sequence.flow = true;
  }
  // First among the init containers, and the list where people write it: before the containers.
  addOnce(
    document,
    spec,
    'initContainers',
    (item) => item.get('name') === INIT_CONTAINER,
    installer,
    {
      first: true,
      before: 'containers',
    },
  );
}

/**
 * Adds `value` to the list at `key` of `map` unless an item already `matches`; creates the list
 * when there is none (before the key `before`, when given).
 */
function addOnce(
  document: Document,
  map: YAMLMap,
  key: string,
  matches: (item: YAMLMap) => boolean,
  value: unknown,
  placement: { first?: boolean; before?: string } = {},
): void {
  let list = map.get(key);
  if (!isSeq(list)) {
    list = document.createNode([]) as YAMLSeq;
    const at = map.items.findIndex((pair) => scalarValue(pair.key) === placement.before);
    if (placement.before === undefined || at < 0) map.set(key, list);
    else map.items.splice(at, 0, document.createPair(key, list));
  }
  const items = (list as YAMLSeq).items;
  if (items.some((item) => isMap(item) && matches(item))) return;
  const node = isMap(value) ? value : document.createNode(value);
  if (placement.first === true) items.unshift(node);
  else items.push(node);
}

function meshOf(metadata: YAMLMap | undefined): Mesh | undefined {
  const istio =
    annotationOf(metadata, 'sidecar.istio.io/inject') ??
    labelOf(metadata, 'sidecar.istio.io/inject');
  if (istio === 'true') return 'istio';
  if (annotationOf(metadata, 'linkerd.io/inject') === 'enabled') return 'linkerd';
  return undefined;
}

function annotationOf(metadata: YAMLMap | undefined, key: string): string | undefined {
  const value = metadata?.getIn(['annotations', key]);
  return value === undefined ? undefined : String(value);
}

function labelOf(metadata: YAMLMap | undefined, key: string): string | undefined {
  const value = metadata?.getIn(['labels', key]);
  return value === undefined ? undefined : String(value);
}

function containersOf(spec: YAMLMap, key: string): YAMLMap[] {
  const list = spec.get(key);
  return isSeq(list) ? list.items.filter(isMap) : [];
}

function mapAt(map: YAMLMap, key: string): YAMLMap | undefined {
  const value = map.get(key);
  return isMap(value) ? value : undefined;
}

function nameOf(container: YAMLMap): string {
  return String(container.get('name') ?? '');
}

function scalarValue(node: unknown): unknown {
  return typeof node === 'object' && node !== null && 'value' in node
    ? (node as { value: unknown }).value
    : node;
}

function describe(document: Document): string {
  const root = document.contents;
  if (!isMap(root)) return 'no object';
  return `${root.get('kind')} ${String(root.getIn(['metadata', 'name']) ?? '(unnamed)')}`;
}

function injectError(message: string): SupervisorError {
  return new SupervisorError(`kubexit inject: ${message}`, 2);
}

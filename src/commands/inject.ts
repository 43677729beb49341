import { parseAllDocuments } from 'yaml';
import type { ShutdownPreset } from '../core/model/config.ts';
import { DEFAULT_GRAVEYARD, type OptionKey, specOf } from '../core/model/options.ts';
import {
  injectError,
  JsonEditor,
  type ManifestEditor,
  type Path,
  YamlDocumentEditor,
  YamlText,
} from './manifest-editor.ts';
import { addPodFailurePolicy, jobSpecPath } from './pod-failure-policy.ts';

/**
 * `kubexit inject`: wires kubexit into Kubernetes manifests, the edit users otherwise make by
 * hand in every container (and where a missing death dependency is a Job that hangs).
 *
 * Decides what each pod needs and says so on stderr when it needs nothing; the edits themselves
 * are made by the manifest editor, on the text, so that what inject has no reason to touch stays
 * byte for byte. Only what is missing is added, so that injecting an injected manifest changes
 * nothing.
 */
export interface InjectOptions {
  /** Containers to treat as sidecars, besides the pod's annotation and the known proxies. */
  readonly sidecars: readonly string[];
  /** A mesh whose proxy a webhook adds later; otherwise read from the pod's annotations. */
  readonly mesh?: Mesh;
  /** The mesh injects its proxy as a native sidecar (a cluster-wide setting of the mesh). */
  readonly meshNative?: boolean;
  /** container name → the command its image runs, for containers without `command`. */
  readonly entrypoints: ReadonlyMap<string, string>;
  /** The kubexit image of the install init container (or of the image volume). */
  readonly image: string;
  /** Mount the kubexit image as an image volume instead of copying it with an init container. */
  readonly imageVolume?: boolean;
  /** Rewrite the sidecars as native sidecars instead of wrapping anything in kubexit. */
  readonly nativeSidecars?: boolean;
  /** Give Jobs a podFailurePolicy that fails them at once on a kubexit configuration error. */
  readonly podFailurePolicy?: boolean;
}

export type Mesh = 'istio' | 'linkerd';
export const MESHES: readonly Mesh[] = ['istio', 'linkerd'];

/** What inject tells the user about a manifest it still wrote out. */
export type Notice = (kind: 'warning' | 'note', message: string) => void;

const KUBEXIT = '/kubexit/kubexit';
const GRAVEYARD_VOLUME = 'kubexit-graveyard';
const KUBEXIT_VOLUME = 'kubexit';
const INIT_CONTAINER = 'kubexit-install';
export const SIDECARS_ANNOTATION = 'kubexit.io/sidecars';

/**
 * What kubexit itself needs of a container's memory limit: its highest idle resident memory in
 * BENCHMARKS.md (48.4 MiB, of which ~10 MiB private), rounded up.
 */
export const KUBEXIT_MEMORY_MIB = 50;
/** The installed bundle is ~112 MiB (the larger architecture); the copy's volume gets room for it. */
const KUBEXIT_VOLUME_SIZE = '256Mi';
/** Tombstones are a few hundred bytes each (and a liveness socket): room for hundreds. */
const GRAVEYARD_SIZE = '8Mi';
/** The installer copies files: a little CPU, Node's own memory and the copy's page cache. */
export const INSTALLER_RESOURCES = {
  requests: { cpu: '10m', memory: '64Mi' },
  limits: { cpu: '500m', memory: '128Mi' },
};

/** Proxies recognised by image: sidecars without being named. */
const KNOWN_PROXIES: ReadonlyArray<RegExp> = [
  /(^|\/)cloud-sql-proxy(:|@|$)/,
  /(^|\/)gce-proxy(:|@|$)/,
  /(^|\/)alloydb-auth-proxy(:|@|$)/,
  /(^|\/)pgbouncer(:|@|$)/,
  /(^|\/)envoy(:|@|$)/,
];

/**
 * A mesh's proxy as it appears in a pod that was already injected (istioctl kube-inject output, a
 * `kubectl get -o yaml` of a meshed pod): by its container name or its image.
 */
const MESH_PROXIES: Readonly<Record<Mesh, { name: string; image: RegExp }>> = {
  istio: { name: 'istio-proxy', image: /(^|\/)proxyv2(:|@|$)/ },
  linkerd: { name: 'linkerd-proxy', image: /(^|\/)linkerd\/proxy(:|@|$)/ },
};

/** The mesh whose proxy this container is, if it is one. */
function proxyMesh(container: Container): Mesh | undefined {
  return MESHES.find(
    (mesh) =>
      nameOf(container) === MESH_PROXIES[mesh].name ||
      MESH_PROXIES[mesh].image.test(String(container.image ?? '')),
  );
}

/** What a mesh's proxy offers the containers kubexit wraps, and how each mesh names its modes. */
const MESH_WIRING: Readonly<
  Record<
    Mesh,
    {
      ready: string;
      shutdown: ShutdownPreset;
      /** Pod annotations that ask for the native sidecar mode (true) or not (false). */
      nativeAnnotations: readonly string[];
      /** Annotations the proxy needs for kubexit's shutdown call to stop it. */
      shutdownAnnotations: Readonly<Record<string, string>>;
    }
  >
> = {
  istio: {
    ready: 'http://127.0.0.1:15021/healthz/ready',
    shutdown: 'istio',
    nativeAnnotations: ['sidecar.istio.io/nativeSidecar'],
    shutdownAnnotations: {},
  },
  linkerd: {
    ready: 'http://127.0.0.1:4191/ready',
    shutdown: 'linkerd',
    nativeAnnotations: [
      'config.beta.linkerd.io/proxy-enable-native-sidecar',
      'config.alpha.linkerd.io/proxy-enable-native-sidecar',
    ],
    // Linkerd 2.15+ serves /shutdown only when the pod asks for it.
    shutdownAnnotations: { 'config.linkerd.io/proxy-admin-shutdown': 'enabled' },
  },
};

/**
 * The kinds whose pod template the kubelet runs as a Pod, by API group: only these are injected.
 * A custom resource with a pod-like template (a Knative Service, a Volcano Job) is run by its own
 * platform, which may reject init containers and emptyDirs: it is left as it is, with a note.
 */
const POD_KINDS: Readonly<Record<string, readonly string[]>> = {
  '': ['Pod'],
  batch: ['Job', 'CronJob'],
  apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  extensions: ['Deployment', 'DaemonSet', 'ReplicaSet'],
};

/** Whether the object is a kind kubexit injects: its apiVersion's group and its kind. */
function isPodKind(data: Data): boolean {
  const apiVersion = String(data.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return POD_KINDS[group]?.includes(String(data.kind)) ?? false;
}

/** The environment variable of an option, from the option table. */
function envOf(key: OptionKey): string {
  return specOf(key).env;
}

type Data = Record<string, unknown>;
type Container = Data & { name?: unknown };

/** Injects kubexit into every pod template of a YAML stream or a JSON manifest. */
export function inject(text: string, options: InjectOptions, notice: Notice = () => {}): string {
  const seen = new Set<string>();
  const json = jsonOf(text);
  let output: string;
  if (json !== undefined) {
    const editor = new JsonEditor(json);
    const changed = injectObject(json, [], editor, 'the JSON manifest', options, notice, seen);
    output = changed ? editor.print(text) : text;
  } else {
    const documents = parseAllDocuments(text);
    const out = new YamlText(text);
    for (const [index, document] of documents.entries()) {
      const where = `document ${index + 1}`;
      if (document.errors.length > 0)
        throw injectError(`${where} is not valid YAML: ${document.errors[0]?.message}`);
      const editor = new YamlDocumentEditor(out, document);
      injectObject(document.toJS(), [], editor, where, options, notice, seen);
    }
    output = out.result();
  }
  const unknownSidecars = options.sidecars.filter((name) => !seen.has(name));
  if (unknownSidecars.length > 0)
    throw injectError(
      `--sidecar ${unknownSidecars.join(', ')}: no such container in any pod; name containers of spec.containers (or native sidecars)`,
    );
  const unknownEntrypoints = [...options.entrypoints.keys()].filter((name) => !seen.has(name));
  if (unknownEntrypoints.length > 0)
    throw injectError(
      `--entrypoint ${unknownEntrypoints.join(', ')}: no such container in any pod`,
    );
  return output;
}

/** A JSON manifest (an object or a list of them), or undefined for YAML. */
function jsonOf(text: string): unknown {
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // YAML's flow style starts so too; its parser names any error.
  }
}

/** One object: a pod-bearing kind, or a List of them; true when it was edited. */
function injectObject(
  data: unknown,
  path: Path,
  editor: ManifestEditor,
  where: string,
  options: InjectOptions,
  notice: Notice,
  seen: Set<string>,
): boolean {
  if (!isData(data)) return false;
  if (data.kind === 'List' || (Array.isArray(data.items) && String(data.kind).endsWith('List'))) {
    let changed = false;
    for (const [index, item] of (Array.isArray(data.items) ? data.items : []).entries())
      changed =
        injectObject(
          item,
          [...path, 'items', index],
          editor,
          `${where} item ${index + 1}`,
          options,
          notice,
          seen,
        ) || changed;
    return changed;
  }
  if (!isPodKind(data)) {
    if (isData(data.spec) && isData(data.spec.template) && isData(data.spec.template.spec))
      notice(
        'note',
        `${where} (${data.apiVersion} ${data.kind}): left as it is: its pod template is run by its own platform, not as a Kubernetes Pod, and that platform may refuse init containers and emptyDir volumes; wire kubexit in by hand if it allows them`,
      );
    return false;
  }
  const template = podTemplateOf(data, path);
  if (template === undefined) return false;
  // Native sidecars too: the same flags on inject's own --native-sidecars output name them there.
  for (const container of [
    ...containersOf(template.spec, 'containers'),
    ...containersOf(template.spec, 'initContainers').filter((c) => c.restartPolicy === 'Always'),
  ])
    seen.add(nameOf(container));
  const named = `${where} (${data.kind} ${isData(data.metadata) ? (data.metadata.name ?? '(unnamed)') : '(unnamed)'})`;
  const pod = new Pod(template, editor, options, named, notice);
  if (options.nativeSidecars === true) return pod.toNativeSidecars();
  const changed = pod.inject();
  const specPath = jobSpecPath(data, path);
  if (options.podFailurePolicy !== true || specPath === undefined) return changed;
  const note = (message: string) => notice('note', `${named}: ${message}`);
  const wrapped = containersOf(template.spec, 'containers').some(runsKubexit);
  if (!changed && !wrapped) {
    note('no podFailurePolicy added: no container of this pod runs kubexit');
    return changed;
  }
  const jobSpec = specPath.slice(path.length).reduce<unknown>((o, key) => (o as Data)?.[key], data);
  const restartPolicy = String(template.spec.restartPolicy ?? 'Always');
  return addPodFailurePolicy(jobSpec as Data, specPath, restartPolicy, editor, note) || changed;
}

interface PodTemplate {
  /** The path of the object holding metadata and spec (the pod, or its template). */
  readonly path: Path;
  readonly metadata: Data | undefined;
  readonly spec: Data;
}

/** A Pod's spec, or the pod template of a Job, CronJob, Deployment, StatefulSet… */
function podTemplateOf(data: Data, path: Path): PodTemplate | undefined {
  const spec = data.spec;
  if (!isData(spec)) return undefined;
  const holder = (object: unknown, at: Path): PodTemplate | undefined =>
    isData(object) && isData(object.spec) && Array.isArray(object.spec.containers)
      ? {
          path: at,
          metadata: isData(object.metadata) ? object.metadata : undefined,
          spec: object.spec,
        }
      : undefined;
  if (data.kind === 'Pod') return holder(data, path);
  if (data.kind === 'CronJob' && isData(spec.jobTemplate) && isData(spec.jobTemplate.spec))
    return holder(spec.jobTemplate.spec.template, [
      ...path,
      'spec',
      'jobTemplate',
      'spec',
      'template',
    ]);
  return holder(spec.template, [...path, 'spec', 'template']);
}

/** One pod template: what it needs, and the edits that give it. */
class Pod {
  readonly #template: PodTemplate;
  readonly #editor: ManifestEditor;
  readonly #options: InjectOptions;
  readonly #where: string;
  readonly #notice: Notice;
  readonly #containers: Container[];
  readonly #sidecars: Container[];
  readonly #mains: Container[];
  readonly #restartPolicy: string;
  readonly #mesh: { mesh: Mesh; native: boolean } | undefined;
  /** Mesh proxies among the regular containers: never wrapped, neither mains nor sidecars. */
  readonly #proxies: ReadonlySet<Container>;

  constructor(
    template: PodTemplate,
    editor: ManifestEditor,
    options: InjectOptions,
    where: string,
    notice: Notice,
  ) {
    this.#template = template;
    this.#editor = editor;
    this.#options = options;
    this.#where = where;
    this.#notice = notice;
    this.#containers = containersOf(template.spec, 'containers');
    this.#proxies = new Set(this.#containers.filter((c) => proxyMesh(c) !== undefined));
    const names = this.#containers.map(nameOf);
    const annotated = this.#annotation(SIDECARS_ANNOTATION)
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const native = containersOf(template.spec, 'initContainers')
      .filter((container) => container.restartPolicy === 'Always')
      .map(nameOf);
    for (const name of annotated ?? [])
      if (!names.includes(name) && !native.includes(name))
        throw injectError(
          `${where}: ${SIDECARS_ANNOTATION} names ${name}, which is not one of its containers (${names.join(', ')})`,
        );
    const isSidecar = (container: Container) =>
      options.sidecars.includes(nameOf(container)) ||
      (annotated ?? []).includes(nameOf(container)) ||
      KNOWN_PROXIES.some((pattern) => pattern.test(String(container.image ?? '')));
    const wrappable = this.#containers.filter((container) => !this.#proxies.has(container));
    this.#sidecars = wrappable.filter(isSidecar);
    this.#mains = wrappable.filter((container) => !isSidecar(container));
    if (this.#mains.length === 0)
      throw injectError(
        `${where}: every container is a sidecar (${names.join(', ')}); at least one must be a main container, whose end ends the pod`,
      );
    this.#restartPolicy = String(template.spec.restartPolicy ?? 'Always');
    this.#mesh = this.#meshOf();
  }

  /** Wraps every container in kubexit; false (and a note why) when the pod gains nothing. */
  inject(): boolean {
    const migrated = this.#migrateFromOriginal();
    if (migrated !== undefined) return migrated;
    const mesh = this.#mesh !== undefined && !this.#mesh.native ? this.#mesh.mesh : undefined;
    const retried = this.#restartPolicy === 'Always';
    const readyChecks = new Map(
      this.#sidecars.map((sidecar) => [nameOf(sidecar), this.#readyCheckOf(sidecar)]),
    );
    // A sidecar has readiness when its probe became a check, or it already sets one itself.
    const ready = this.#sidecars
      .filter(
        (sidecar) =>
          readyChecks.get(nameOf(sidecar)) !== undefined ||
          envValue(sidecar, envOf('readyCheck')) !== undefined,
      )
      .map(nameOf);
    const birth = [...ready, ...(mesh === undefined ? [] : [MESH_WIRING[mesh].ready])];
    const deaths = !retried && this.#sidecars.length > 0;
    const shutdown = !retried && mesh !== undefined;
    // Dependencies the user already wrote (API mode on a native sidecar, say) need kubexit too.
    const wired = this.#containers.some((container) =>
      (['birthDeps', 'deathDeps', 'shutdownUrls'] as const).some(
        (key) => envValue(container, envOf(key)) !== undefined,
      ),
    );
    if (birth.length === 0 && !deaths && !shutdown && !wired) {
      this.#note(this.#nothingToGain());
      return false;
    }
    if (this.#mesh?.native === true)
      this.#note(
        `the ${this.#mesh.mesh} proxy runs as a native sidecar: the kubelet starts it before and stops it after the other containers, so kubexit neither waits for it nor stops it`,
      );
    if (retried)
      this.#note(
        `restartPolicy Always: the kubelet restarts every container that ends, so no death dependencies or shutdown calls were added; kubexit only holds the main containers until their sidecars are ready`,
      );
    this.#warnAboutMemory();
    const env = new Map<Container, Array<[string, string]>>(
      [...this.#mains, ...this.#sidecars].map((container) => [
        container,
        [[envOf('name'), nameOf(container)]],
      ]),
    );
    for (const main of this.#mains) {
      const list = env.get(main) ?? [];
      if (birth.length > 0) list.push([envOf('birthDeps'), birth.join(',')]);
      if (shutdown && mesh !== undefined)
        list.push([envOf('shutdownUrls'), MESH_WIRING[mesh].shutdown]);
    }
    for (const sidecar of this.#sidecars) {
      const list = env.get(sidecar) ?? [];
      const check = readyChecks.get(nameOf(sidecar));
      if (check !== undefined) {
        list.push([envOf('readyCheck'), check.check]);
        if (check.headers !== undefined) list.push([envOf('readyCheckHeaders'), check.headers]);
        if (check.timeout !== undefined) list.push([envOf('readyTimeout'), check.timeout]);
      }
      if (deaths) {
        list.push([envOf('deathDeps'), this.#mains.map(nameOf).join(',')]);
        // Only once every main container has ended: with `any`, the first to end would stop
        // the sidecar under the others.
        if (this.#mains.length > 1) list.push([envOf('deathDepsPolicy'), 'all']);
      }
    }
    // A pod whose kubelet restarts failed containers: a failed main must find its sidecars (and
    // its proxy) still there when it is restarted, so only a success ends them.
    if (this.#restartPolicy === 'OnFailure')
      for (const list of env.values()) list.push([envOf('restartPolicy'), 'OnFailure']);
    for (const [index, container] of this.#containers.entries()) {
      if (this.#proxies.has(container)) continue;
      const path = [...this.#specPath, 'containers', index];
      this.#wrap(container, path);
      this.#addToList(
        container,
        path,
        'env',
        (env.get(container) ?? [])
          .filter(([name]) => envValue(container, name) === undefined)
          .map(([name, value]) => ({ name, value })),
      );
      this.#addToList(container, path, 'volumeMounts', this.#mountsFor(container));
    }
    if (shutdown && mesh !== undefined) this.#addAnnotations(MESH_WIRING[mesh].shutdownAnnotations);
    const spec = this.#template.spec;
    const volumes = [
      { name: GRAVEYARD_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: GRAVEYARD_SIZE } },
      this.#options.imageVolume === true
        ? {
            name: KUBEXIT_VOLUME,
            image: { reference: this.#options.image, pullPolicy: 'IfNotPresent' },
          }
        : { name: KUBEXIT_VOLUME, emptyDir: { sizeLimit: KUBEXIT_VOLUME_SIZE } },
    ].filter((volume) => !containersOf(spec, 'volumes').some((v) => v.name === volume.name));
    this.#addToList(spec, this.#specPath, 'volumes', volumes);
    if (
      this.#options.imageVolume !== true &&
      !containersOf(spec, 'initContainers').some((c) => nameOf(c) === INIT_CONTAINER)
    )
      this.#addToList(spec, this.#specPath, 'initContainers', [this.#installer()], {
        first: true,
        before: 'containers',
      });
    return true;
  }

  /**
   * Rewrites the sidecars as native sidecars (init containers with restartPolicy Always), and
   * a mesh's proxy by its annotation: what a cluster of Kubernetes 1.29+ does without kubexit.
   */
  toNativeSidecars(): boolean {
    const mesh = this.#mesh !== undefined && !this.#mesh.native ? this.#mesh.mesh : undefined;
    if (this.#sidecars.length === 0 && mesh === undefined) {
      this.#note(this.#nothingToGain());
      return false;
    }
    for (const container of this.#containers)
      if (firstWord(container) === KUBEXIT)
        throw injectError(
          `${this.#where}: container ${nameOf(container)} already runs kubexit; make native sidecars from the manifest as it was before inject`,
        );
    for (const sidecar of this.#sidecars) {
      const index = this.#containers.indexOf(sidecar);
      const path = [...this.#specPath, 'containers', index];
      const name = nameOf(sidecar);
      if (sidecar.readinessProbe !== undefined && sidecar.startupProbe === undefined) {
        this.#editor.renameKey(path, 'readinessProbe', 'startupProbe');
        this.#note(
          `${name}: its readinessProbe is now its startupProbe, which the kubelet waits for before it starts the main containers; a startupProbe that keeps failing restarts the sidecar after failureThreshold × periodSeconds`,
        );
      } else if (sidecar.startupProbe === undefined)
        this.#note(
          `${name} has no readinessProbe: as a native sidecar, the main containers start as soon as it has started, not once it is ready`,
        );
      this.#editor.addKey(path, 'restartPolicy', 'Always', { after: ['image', 'name'] });
      this.#editor.moveItem(path, this.#specPath, 'initContainers', 'containers');
    }
    if (mesh !== undefined) {
      const [annotation] = MESH_WIRING[mesh].nativeAnnotations;
      if (annotation !== undefined) this.#addAnnotations({ [annotation]: 'true' });
    }
    this.#note(
      'native sidecars need Kubernetes 1.29 or later (on by default there, GA in 1.33); the kubelet stops them once the main containers have ended',
    );
    return true;
  }

  /**
   * A pod already wired for the original kubexit — its containers run kubexit (first word
   * `/kubexit/kubexit` or `kubexit`, or inside a shell script) and no installer of this kubexit
   * is there — is migrated in place rather than wired again: its installer copies this kubexit
   * (the image changes; `cp /bin/kubexit /kubexit/kubexit` runs in it as it is), its commands,
   * volumes and KUBEXIT_* settings stay (drop-in), and /kubexit is mounted read-only where it is
   * run. Undefined when the pod is not such a pod.
   */
  #migrateFromOriginal(): boolean | undefined {
    const spec = this.#template.spec;
    const runners = this.#containers.filter(runsKubexit);
    const inits = containersOf(spec, 'initContainers');
    const ours =
      inits.some((c) => nameOf(c) === INIT_CONTAINER) ||
      containersOf(spec, 'volumes').some((v) => v.name === KUBEXIT_VOLUME && isData(v.image));
    if (runners.length === 0 || ours) return undefined;
    const index = inits.findIndex((c) => wordsOf(c).some((word) => word.includes('kubexit')));
    if (index < 0) {
      this.#note(
        `its containers (${runners.map(nameOf).join(', ')}) already run kubexit, and no init container here installs it (an image with kubexit inside?): left as it is`,
      );
      return false;
    }
    const installer = inits[index] as Container;
    const [program, ...rest] = wordsOf(installer);
    if (!/(^|\/)cp$/.test(program ?? '') || rest.length !== 2)
      throw injectError(
        `${this.#where}: init container ${nameOf(installer)} installs the original kubexit with "${wordsOf(installer).join(' ')}", which this kubexit's image can't run: make it command: [cp, /bin/kubexit, /kubexit/kubexit] (this image runs that as it is), or args: [install, /kubexit]`,
      );
    const path = [...this.#specPath, 'initContainers', index];
    let changed = false;
    if (installer.image !== this.#options.image) {
      this.#editor.setScalar(path, 'image', this.#options.image);
      changed = true;
    }
    for (const container of runners) {
      const at = [...this.#specPath, 'containers', this.#containers.indexOf(container)];
      for (const [i, mount] of containersOf(container, 'volumeMounts').entries())
        if (mount.mountPath === '/kubexit' && mount.readOnly !== true) {
          this.#editor.addKey([...at, 'volumeMounts', i], 'readOnly', true);
          changed = true;
        }
    }
    if (changed)
      this.#note(
        `wired for the original kubexit: migrated in place — ${nameOf(installer)} now installs ${this.#options.image}, the commands and KUBEXIT_* settings of ${runners.map(nameOf).join(', ')} are kept, and /kubexit is mounted read-only where it is run`,
      );
    return changed;
  }

  get #specPath(): Path {
    return [...this.#template.path, 'spec'];
  }

  #note(message: string): void {
    this.#notice('note', `${this.#where}: ${message}`);
  }

  #nothingToGain(): string {
    const native = containersOf(this.#template.spec, 'initContainers')
      .filter((container) => container.restartPolicy === 'Always')
      .map(nameOf);
    const mesh = this.#mesh?.native === true ? this.#mesh.mesh : undefined;
    const why =
      native.length > 0
        ? `its sidecars (${native.join(', ')}) are native sidecars, which the kubelet already starts before and stops after the main containers`
        : this.#sidecars.length > 0
          ? `its sidecars (${this.#sidecars.map(nameOf).join(', ')}) have no readiness to wait for, and restartPolicy Always restarts whatever ends`
          : this.#containers.length === 1
            ? `it has one container${mesh === undefined ? ' and no mesh proxy to stop' : ''}`
            : `none of its containers (${this.#containers.map(nameOf).join(', ')}) is a sidecar; name them with --sidecar NAME or the ${SIDECARS_ANNOTATION} annotation`;
    const proxy =
      mesh === undefined
        ? ''
        : `, and its ${mesh} proxy runs as a native sidecar, which the kubelet starts first and stops itself`;
    return `left as it is, kubexit would change nothing: ${why}${proxy}`;
  }

  #meshOf(): { mesh: Mesh; native: boolean } | undefined {
    // A proxy that is in the pod says what it is: regular (stopped by a shutdown call) or a
    // native sidecar (the kubelet starts it first and stops it last), whatever annotations say.
    const [regular] = this.#proxies;
    const present = regular === undefined ? undefined : proxyMesh(regular);
    if (present !== undefined) return { mesh: present, native: false };
    for (const container of containersOf(this.#template.spec, 'initContainers')) {
      const native = proxyMesh(container);
      if (native !== undefined && container.restartPolicy === 'Always')
        return { mesh: native, native: true };
    }
    const istio =
      this.#annotation('sidecar.istio.io/inject') ?? this.#label('sidecar.istio.io/inject');
    const mesh =
      this.#options.mesh ??
      (istio === 'true'
        ? 'istio'
        : this.#annotation('linkerd.io/inject') === 'enabled'
          ? 'linkerd'
          : undefined);
    if (mesh === undefined) return undefined;
    const annotated = MESH_WIRING[mesh].nativeAnnotations
      .map((name) => this.#annotation(name))
      .find((value) => value !== undefined);
    return {
      mesh,
      native: annotated === undefined ? this.#options.meshNative === true : annotated === 'true',
    };
  }

  #annotation(key: string): string | undefined {
    const value = isData(this.#template.metadata?.annotations)
      ? this.#template.metadata.annotations[key]
      : undefined;
    return value === undefined || value === null ? undefined : String(value);
  }

  #label(key: string): string | undefined {
    const value = isData(this.#template.metadata?.labels)
      ? this.#template.metadata.labels[key]
      : undefined;
    return value === undefined || value === null ? undefined : String(value);
  }

  #addAnnotations(annotations: Readonly<Record<string, string>>): void {
    const missing = Object.entries(annotations).filter(
      ([key]) => this.#annotation(key) === undefined,
    );
    if (missing.length === 0) return;
    const metadata = this.#template.metadata;
    const metadataPath = [...this.#template.path, 'metadata'];
    if (metadata === undefined)
      this.#editor.addKey(
        this.#template.path,
        'metadata',
        { annotations: Object.fromEntries(missing) },
        { before: 'spec' },
      );
    else if (!isData(metadata.annotations))
      this.#editor.addKey(metadataPath, 'annotations', Object.fromEntries(missing));
    else
      for (const [key, value] of missing)
        this.#editor.addKey([...metadataPath, 'annotations'], key, value);
  }

  /** Prefixes the container's command with kubexit, once. */
  #wrap(container: Container, path: Path): void {
    const name = nameOf(container);
    if (Array.isArray(container.command)) {
      if (container.command[0] !== KUBEXIT)
        this.#editor.addItem([...path, 'command'], KUBEXIT, true);
      return;
    }
    const entrypoint = this.#options.entrypoints.get(name);
    if (entrypoint === undefined)
      throw injectError(
        `${this.#where}: container ${name} has no command, so the program its image runs is not known here; give it: --entrypoint ${name}=/path/to/its/command (its image's ENTRYPOINT; args stay as they are)`,
      );
    this.#editor.addKey(path, 'command', [KUBEXIT, entrypoint], { after: ['image', 'name'] });
  }

  #mountsFor(container: Container): Data[] {
    const kubexit: Data = { name: KUBEXIT_VOLUME, mountPath: '/kubexit', readOnly: true };
    // The image's files are at /opt/kubexit: only they are mounted (subPath, Kubernetes 1.33+).
    if (this.#options.imageVolume === true) kubexit.subPath = 'opt/kubexit';
    return [{ name: GRAVEYARD_VOLUME, mountPath: DEFAULT_GRAVEYARD }, kubexit].filter(
      (mount) =>
        !containersOf(container, 'volumeMounts').some((m) => m.mountPath === mount.mountPath),
    );
  }

  /** Adds items to the list at `key` of `holder` (at `path`), creating the list if missing. */
  #addToList(
    holder: Data,
    path: Path,
    key: string,
    items: readonly unknown[],
    placement: { first?: boolean; before?: string } = {},
  ): void {
    if (items.length === 0) return;
    if (Array.isArray(holder[key]))
      // First: one item only (the installer); several would come out in a different order.
      for (const item of items) this.#editor.addItem([...path, key], item, placement.first);
    else
      this.#editor.addKey(
        path,
        key,
        items,
        placement.before === undefined ? {} : { before: placement.before },
      );
  }

  /** The init container that copies kubexit into the shared volume (`kubexit install`). */
  #installer(): Data {
    return {
      name: INIT_CONTAINER,
      image: this.#options.image,
      args: ['install', '/kubexit'],
      volumeMounts: [{ name: KUBEXIT_VOLUME, mountPath: '/kubexit' }],
      // Namespaces with a LimitRange or a quota refuse containers without them.
      resources: INSTALLER_RESOURCES,
      // What the restricted Pod Security Standard asks of every container.
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    };
  }

  /** A wrapped container's memory limit shared with kubexit must leave kubexit its need. */
  #warnAboutMemory(): void {
    for (const container of [...this.#mains, ...this.#sidecars]) {
      const resources = isData(container.resources) ? container.resources : {};
      const limit = isData(resources.limits) ? resources.limits.memory : undefined;
      if (limit === undefined) continue;
      const bytes = parseQuantity(String(limit));
      if (bytes !== undefined && bytes < KUBEXIT_MEMORY_MIB * 1024 * 1024)
        this.#notice(
          'warning',
          `${this.#where}: container ${nameOf(container)} has a memory limit of ${String(limit)}, less than kubexit alone needs (about ${KUBEXIT_MEMORY_MIB} MiB resident, see BENCHMARKS.md), and its command shares that limit: raise it by ${KUBEXIT_MEMORY_MIB}Mi`,
        );
    }
  }

  /** A sidecar's startupProbe (or readinessProbe) as a ready check: no API access or RBAC. */
  #readyCheckOf(
    container: Container,
  ): { check: string; headers?: string; timeout?: string } | undefined {
    // The startupProbe first: it says the sidecar has started and can serve (what the kubelet
    // orders native sidecars by), where a readinessProbe may also depend on what lies behind it
    // (Cloud SQL Proxy's /readiness on reaching the database, which its docs warn against).
    const field = isData(container.startupProbe)
      ? 'startupProbe'
      : isData(container.readinessProbe)
        ? 'readinessProbe'
        : undefined;
    if (field === undefined) return undefined;
    const probe = container[field] as Data;
    const name = nameOf(container);
    const of = `the ${field} of ${name}`;
    const timeout =
      typeof probe.timeoutSeconds === 'number' ? `${probe.timeoutSeconds}s` : undefined;
    const dropped = Object.keys(probe).filter(
      (key) => !['tcpSocket', 'httpGet', 'exec', 'timeoutSeconds'].includes(key),
    );
    const unsupported = dropped.filter((key) => !TIMING_FIELDS.includes(key));
    if (!isData(probe.tcpSocket) && !isData(probe.httpGet) && !isData(probe.exec)) {
      this.#notice(
        'warning',
        `${this.#where}: ${of} (${unsupported.join(', ') || 'empty'}) has no kubexit ready check; the main containers won't wait for ${name}`,
      );
      return undefined;
    }
    const timing = dropped.filter((key) => TIMING_FIELDS.includes(key));
    if (timing.length > 0)
      this.#note(
        `${of}: ${timing.join(', ')} not carried over: kubexit checks every ${defaultOf('readyInterval')} until the first pass (${envOf('readyInterval')})`,
      );
    if (isData(probe.tcpSocket))
      return {
        check: `tcp://${hostOf(probe.tcpSocket)}:${this.#portOf(container, probe.tcpSocket, of)}`,
        timeout,
      };
    if (isData(probe.httpGet)) {
      const http = probe.httpGet;
      const scheme = String(http.scheme ?? 'HTTP').toUpperCase();
      // The kubelet's HTTPS probes verify no certificate: neither does this check.
      const prefix = scheme === 'HTTPS' ? 'https+insecure' : 'http';
      const path = String(http.path ?? '/');
      const headers = Array.isArray(http.httpHeaders)
        ? http.httpHeaders
            .filter(isData)
            .map((header) => `${String(header.name)}: ${String(header.value ?? '')}`)
            .join('\n')
        : '';
      return {
        check: `${prefix}://${hostOf(http)}:${this.#portOf(container, http, of)}${path.startsWith('/') ? '' : '/'}${path}`,
        ...(headers === '' ? {} : { headers }),
        timeout,
      };
    }
    const command = isData(probe.exec) ? probe.exec.command : undefined;
    if (Array.isArray(command) && command.length > 0)
      return { check: `exec:${JSON.stringify(command.map(String))}`, timeout };
    this.#notice(
      'warning',
      `${this.#where}: ${of} runs no command; the main containers won't wait for ${name}`,
    );
    return undefined;
  }

  /** A probe's port: a number, or the name of one of the container's ports. */
  #portOf(container: Container, action: Data, of: string): number {
    const port = action.port;
    if (typeof port === 'number') return port;
    const named = containersOf(container, 'ports').find((item) => item.name === port);
    if (typeof named?.containerPort === 'number') return named.containerPort;
    if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
    throw injectError(
      `${this.#where}: ${of} names port ${JSON.stringify(port)}, which none of its ports is called`,
    );
  }
}

/** Probe fields about timing: kubexit has its own (checks until the first pass). */
const TIMING_FIELDS = [
  'initialDelaySeconds',
  'periodSeconds',
  'successThreshold',
  'failureThreshold',
  'terminationGracePeriodSeconds',
];

function defaultOf(key: OptionKey): string {
  return specOf(key).default ?? '';
}

/** The kubelet connects to the pod's IP by default; within the pod that is localhost. */
function hostOf(action: Data): string {
  const host = action.host;
  if (host === undefined || host === null || host === '') return 'localhost';
  return String(host).includes(':') ? `[${String(host)}]` : String(host);
}

/** Bytes of a Kubernetes quantity (`64Mi`, `1G`, `134217728`, `1e9`); undefined if not one. */
export function parseQuantity(text: string): number | undefined {
  const match = /^([0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(
    text.trim(),
  );
  if (match === null) return undefined;
  const number = Number(match[1]);
  if (!Number.isFinite(number)) return undefined;
  const units: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    m: 1e-3,
  };
  return number * (match[2] === undefined ? 1 : (units[match[2]] ?? 1));
}

function isData(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function containersOf(holder: Data, key: string): Container[] {
  const list = holder[key];
  return Array.isArray(list) ? list.filter(isData) : [];
}

function nameOf(container: Container): string {
  return String(container.name ?? '');
}

/** A container's command and args, as words. */
function wordsOf(container: Container): string[] {
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return [...list(container.command), ...list(container.args)];
}

/** Whether a container already runs kubexit: its first word, or inside a shell script. */
function runsKubexit(container: Container): boolean {
  const [first, ...rest] = wordsOf(container);
  if (first === KUBEXIT || first === 'kubexit') return true;
  return /(^|\/)(ba|da)?sh$/.test(first ?? '') && rest.some((word) => word.includes(KUBEXIT));
}

function firstWord(container: Container): unknown {
  return Array.isArray(container.command) ? container.command[0] : undefined;
}

function envValue(container: Container, name: string): string | undefined {
  const found = containersOf(container, 'env').find((item) => item.name === name);
  return found === undefined ? undefined : String(found.value ?? '');
}

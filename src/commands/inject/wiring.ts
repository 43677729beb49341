import { DEFAULT_GRAVEYARD } from '../../core/model/options.ts';
import {
  type Container,
  containersOf,
  type Data,
  envValue,
  GRAVEYARD_VOLUME,
  INIT_CONTAINER,
  isData,
  KUBEXIT_VOLUME,
  nameOf,
  parseQuantity,
} from './data.ts';
import { wrapCommand } from './entrypoints.ts';
import { MESH_WIRING } from './meshes.ts';
import type { PodView } from './pod-view.ts';
import { envOf, type ReadyCheck, readyCheckOf } from './probes.ts';
import type { Path } from './text-editor.ts';

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

/** The KUBEXIT_* settings a pod's kubexit wiring gives each container. */
type Settings = Map<Container, Array<[string, string]>>;

/**
 * Wires kubexit into a pod: each container that waits, is waited for or is stopped runs under
 * kubexit with its settings, the graveyard and kubexit's volume are added, and the installer.
 * False (and a note why) when the pod gains nothing.
 */
export function wireKubexit(pod: PodView): boolean {
  const { containers, mains, sidecars, proxies } = pod.roles;
  const mesh = pod.mesh !== undefined && !pod.mesh.native ? pod.mesh.mesh : undefined;
  const retried = pod.restartPolicy === 'Always';
  const readyChecks = new Map(
    sidecars.map((sidecar) => [sidecar, readyCheckOf(sidecar, pod.where, pod.notice)]),
  );
  // A sidecar has readiness when its probe became a check, or it already sets one itself.
  const ready = sidecars.filter(
    (sidecar) =>
      readyChecks.get(sidecar) !== undefined ||
      envValue(sidecar, envOf('readyCheck')) !== undefined,
  );
  const birth = [...ready.map(nameOf), ...(mesh === undefined ? [] : [MESH_WIRING[mesh].ready])];
  const deaths = !retried && sidecars.length > 0;
  const shutdown = !retried && mesh !== undefined;
  const ownWiring = containers.filter(hasOwnWiring);
  if (birth.length === 0 && !deaths && !shutdown && ownWiring.length === 0) {
    pod.note(pod.nothingToGain());
    return false;
  }
  noteModes(pod, retried);
  // A sidecar that is neither waited for nor stopped, and wires nothing itself, gains nothing
  // from kubexit: it runs as it is (one process less, and its image's command untouched).
  const wrapped = containers.filter(
    (c) =>
      !proxies.has(c) &&
      (mains.includes(c) || ready.includes(c) || deaths || ownWiring.includes(c)),
  );
  const unwrapped = sidecars.filter((sidecar) => !wrapped.includes(sidecar));
  if (unwrapped.length > 0)
    pod.note(
      `${unwrapped.map(nameOf).join(', ')} left unwrapped: nothing waits for ${unwrapped.length === 1 ? 'it' : 'them'} (no startupProbe or readinessProbe) and restartPolicy Always keeps ${unwrapped.length === 1 ? 'it' : 'them'} running`,
    );
  warnAboutMemory(pod, wrapped);
  const settings = settingsOf(pod, { birth, deaths, shutdown, readyChecks });
  for (const container of wrapped) {
    const path = pod.containerPath(container);
    wrapCommand(pod, container, path);
    const wanted = settings.get(container) ?? [];
    if (pod.options.extendBirthDeps === true) extendBirthDeps(pod, container, path, wanted);
    const env = wanted
      .filter(([name]) => envValue(container, name) === undefined)
      .map(([name, value]) => ({ name, value }));
    pod.addToList(container, path, 'env', env);
    pod.addToList(container, path, 'volumeMounts', mountsFor(pod, container));
  }
  if (shutdown && mesh !== undefined) pod.addAnnotations(MESH_WIRING[mesh].shutdownAnnotations);
  addVolumes(pod);
  return true;
}

/**
 * The webhook called again after another webhook added a proxy: a main container's birth
 * dependencies that kubexit set on the first call gain what is new (the proxy's readiness).
 */
function extendBirthDeps(
  pod: PodView,
  container: Container,
  path: Path,
  wanted: ReadonlyArray<[string, string]>,
): void {
  const key = envOf('birthDeps');
  const want = wanted.find(([name]) => name === key)?.[1];
  const index = containersOf(container, 'env').findIndex((item) => item.name === key);
  const entry = containersOf(container, 'env')[index];
  if (want === undefined || entry === undefined || typeof entry.value !== 'string') return;
  const have = entry.value.split(',').filter((dep) => dep !== '');
  const missing = want.split(',').filter((dep) => !have.includes(dep));
  if (missing.length > 0)
    pod.editor.setScalar([...path, 'env', index], 'value', [...have, ...missing].join(','));
}

/** Dependencies the user already wrote (API mode on a native sidecar, say) need kubexit too. */
function hasOwnWiring(container: Container): boolean {
  return (['birthDeps', 'deathDeps', 'shutdownUrls'] as const).some(
    (key) => envValue(container, envOf(key)) !== undefined,
  );
}

function noteModes(pod: PodView, retried: boolean): void {
  if (pod.mesh?.native === true)
    pod.note(
      `the ${pod.mesh.mesh} proxy runs as a native sidecar: the kubelet starts it before and stops it after the other containers, so kubexit neither waits for it nor stops it`,
    );
  if (retried)
    pod.note(
      `restartPolicy Always: the kubelet restarts every container that ends, so no death dependencies or shutdown calls were added; kubexit only holds the main containers until their sidecars are ready`,
    );
}

/** Each container's KUBEXIT_* settings: its name, and what it waits for, checks and stops on. */
function settingsOf(
  pod: PodView,
  wiring: {
    birth: readonly string[];
    deaths: boolean;
    shutdown: boolean;
    readyChecks: ReadonlyMap<Container, ReadyCheck | undefined>;
  },
): Settings {
  const { mains, sidecars } = pod.roles;
  const mesh = pod.mesh?.mesh;
  const settings: Settings = new Map(
    [...mains, ...sidecars].map((container) => [container, [[envOf('name'), nameOf(container)]]]),
  );
  for (const main of mains) {
    const list = settings.get(main) ?? [];
    if (wiring.birth.length > 0) list.push([envOf('birthDeps'), wiring.birth.join(',')]);
    if (wiring.shutdown && mesh !== undefined)
      list.push([envOf('shutdownUrls'), MESH_WIRING[mesh].shutdown]);
  }
  for (const sidecar of sidecars) {
    const list = settings.get(sidecar) ?? [];
    const check = wiring.readyChecks.get(sidecar);
    if (check !== undefined) {
      list.push([envOf('readyCheck'), check.check]);
      if (check.headers !== undefined) list.push([envOf('readyCheckHeaders'), check.headers]);
      if (check.timeout !== undefined) list.push([envOf('readyTimeout'), check.timeout]);
    }
    if (wiring.deaths) {
      list.push([envOf('deathDeps'), mains.map(nameOf).join(',')]);
      // Only once every main container has ended: with `any`, the first to end would stop
      // the sidecar under the others.
      if (mains.length > 1) list.push([envOf('deathDepsPolicy'), 'all']);
    }
  }
  // A pod whose kubelet restarts failed containers: a failed main must find its sidecars (and
  // its proxy) still there when it is restarted, so only a success ends them.
  if (pod.restartPolicy === 'OnFailure')
    for (const list of settings.values()) list.push([envOf('restartPolicy'), 'OnFailure']);
  return settings;
}

function mountsFor(pod: PodView, container: Container): Data[] {
  const kubexit: Data = { name: KUBEXIT_VOLUME, mountPath: '/kubexit', readOnly: true };
  // The image's files are at /opt/kubexit: only they are mounted (subPath, Kubernetes 1.33+).
  if (pod.options.imageVolume === true) kubexit.subPath = 'opt/kubexit';
  return [{ name: GRAVEYARD_VOLUME, mountPath: DEFAULT_GRAVEYARD }, kubexit].filter(
    (mount) =>
      !containersOf(container, 'volumeMounts').some((m) => m.mountPath === mount.mountPath),
  );
}

/** The graveyard and kubexit's volume, and the installer that fills the latter. */
function addVolumes(pod: PodView): void {
  const spec = pod.template.spec;
  const volumes = [
    { name: GRAVEYARD_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: GRAVEYARD_SIZE } },
    pod.options.imageVolume === true
      ? {
          name: KUBEXIT_VOLUME,
          image: { reference: pod.options.image, pullPolicy: 'IfNotPresent' },
        }
      : { name: KUBEXIT_VOLUME, emptyDir: { sizeLimit: KUBEXIT_VOLUME_SIZE } },
  ].filter((volume) => !containersOf(spec, 'volumes').some((v) => v.name === volume.name));
  pod.addToList(spec, pod.specPath, 'volumes', volumes);
  if (
    pod.options.imageVolume !== true &&
    !pod.initContainers.some((c) => nameOf(c) === INIT_CONTAINER)
  )
    pod.addToList(spec, pod.specPath, 'initContainers', [installerOf(pod.options.image)], {
      first: true,
      before: 'containers',
    });
}

/** The init container that copies kubexit into the shared volume (`kubexit install`). */
function installerOf(image: string): Data {
  return {
    name: INIT_CONTAINER,
    image,
    args: ['install', '/kubexit'],
    volumeMounts: [{ name: KUBEXIT_VOLUME, mountPath: '/kubexit' }],
    // Namespaces with a LimitRange or a quota refuse containers without them.
    resources: INSTALLER_RESOURCES,
    // What the restricted Pod Security Standard asks of every container.
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
}

/** A wrapped container's memory limit shared with kubexit must leave kubexit its need. */
function warnAboutMemory(pod: PodView, wrapped: readonly Container[]): void {
  for (const container of wrapped) {
    const resources = isData(container.resources) ? container.resources : {};
    const limit = isData(resources.limits) ? resources.limits.memory : undefined;
    if (limit === undefined) continue;
    const bytes = parseQuantity(String(limit));
    if (bytes !== undefined && bytes < KUBEXIT_MEMORY_MIB * 1024 * 1024)
      pod.notice(
        'warning',
        `${pod.where}: container ${nameOf(container)} has a memory limit of ${String(limit)}, less than kubexit alone needs (about ${KUBEXIT_MEMORY_MIB} MiB resident, see BENCHMARKS.md), and its command shares that limit: raise it by ${KUBEXIT_MEMORY_MIB}Mi`,
      );
  }
}

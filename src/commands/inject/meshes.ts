import type { ShutdownPreset } from '../../core/model/config.ts';
import { type Container, containersOf, entryOf, nameOf } from './data.ts';
import type { PodTemplate } from './kinds.ts';

/**
 * Service meshes whose proxy kubexit knows: how to see it in a pod (by name or image, regular or
 * native), how to wait for it and stop it, and how each mesh names its native mode.
 */
export type Mesh = 'istio' | 'linkerd';
export const MESHES: readonly Mesh[] = ['istio', 'linkerd'];

/** A pod's mesh: which, and whether its proxy runs as a native sidecar. */
export interface PodMesh {
  readonly mesh: Mesh;
  readonly native: boolean;
}

/**
 * A mesh's proxy as it appears in a pod that was already injected (istioctl kube-inject output, a
 * `kubectl get -o yaml` of a meshed pod): by its container name or its image.
 */
const MESH_PROXIES: Readonly<Record<Mesh, { name: string; image: RegExp }>> = {
  istio: { name: 'istio-proxy', image: /(^|\/)proxyv2(:|@|$)/ },
  linkerd: { name: 'linkerd-proxy', image: /(^|\/)linkerd\/proxy(:|@|$)/ },
};

/** What a mesh's proxy offers the containers kubexit wraps, and how each mesh names its modes. */
export const MESH_WIRING: Readonly<
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

/** The mesh whose proxy this container is, if it is one. */
export function proxyMesh(container: Container): Mesh | undefined {
  return MESHES.find(
    (mesh) =>
      nameOf(container) === MESH_PROXIES[mesh].name ||
      MESH_PROXIES[mesh].image.test(String(container.image ?? '')),
  );
}

/**
 * A pod's mesh: a proxy that is in the pod says what it is — regular (stopped by a shutdown call)
 * or a native sidecar (the kubelet starts it first and stops it last), whatever annotations say;
 * otherwise the mesh a webhook will add, from the flag or the pod's annotations and labels.
 */
export function meshOf(
  template: PodTemplate,
  proxies: ReadonlySet<Container>,
  given: { mesh?: Mesh; meshNative?: boolean },
): PodMesh | undefined {
  const [regular] = proxies;
  const present = regular === undefined ? undefined : proxyMesh(regular);
  if (present !== undefined) return { mesh: present, native: false };
  for (const container of containersOf(template.spec, 'initContainers')) {
    const native = proxyMesh(container);
    if (native !== undefined && container.restartPolicy === 'Always')
      return { mesh: native, native: true };
  }
  const annotations = template.metadata?.annotations;
  const istio =
    entryOf(annotations, 'sidecar.istio.io/inject') ??
    entryOf(template.metadata?.labels, 'sidecar.istio.io/inject');
  const mesh =
    given.mesh ??
    (istio === 'true'
      ? 'istio'
      : entryOf(annotations, 'linkerd.io/inject') === 'enabled'
        ? 'linkerd'
        : undefined);
  if (mesh === undefined) return undefined;
  const annotated = MESH_WIRING[mesh].nativeAnnotations
    .map((name) => entryOf(annotations, name))
    .find((value) => value !== undefined);
  return {
    mesh,
    native: annotated === undefined ? given.meshNative === true : annotated === 'true',
  };
}

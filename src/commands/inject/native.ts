import { nameOf, runsKubexit } from './data.ts';
import { MESH_WIRING } from './meshes.ts';
import type { PodView } from './pod-view.ts';
import { injectError } from './text-editor.ts';

/**
 * Rewrites a pod's sidecars as native sidecars (init containers with restartPolicy Always, their
 * readiness as the startupProbe the kubelet orders them by), and a mesh's proxy by its annotation:
 * what a cluster of Kubernetes 1.29+ does without kubexit. True when it changed the pod.
 */
export function toNativeSidecars(pod: PodView): boolean {
  const mesh = pod.mesh !== undefined && !pod.mesh.native ? pod.mesh.mesh : undefined;
  const { containers, sidecars } = pod.roles;
  if (sidecars.length === 0 && mesh === undefined) {
    pod.note(pod.nothingToGain());
    return false;
  }
  // A pod wired for kubexit (this one's or the original's, a shell script's included) would run
  // kubexit in a native sidecar whose dependencies the kubelet already orders: refused.
  for (const container of containers)
    if (runsKubexit(container))
      throw injectError(
        `${pod.where}: container ${nameOf(container)} already runs kubexit; make native sidecars from the manifest without kubexit (its command as it was before kubexit, no KUBEXIT_* variables), or keep kubexit and leave out --native-sidecars`,
      );
  for (const sidecar of sidecars) {
    const path = pod.containerPath(sidecar);
    const name = nameOf(sidecar);
    if (sidecar.readinessProbe !== undefined && sidecar.startupProbe === undefined) {
      pod.editor.renameKey(path, 'readinessProbe', 'startupProbe');
      pod.note(
        `${name}: its readinessProbe is now its startupProbe, which the kubelet waits for before it starts the main containers; a startupProbe that keeps failing restarts the sidecar after failureThreshold × periodSeconds`,
      );
    } else if (sidecar.startupProbe === undefined)
      pod.note(
        `${name} has no readinessProbe: as a native sidecar, the main containers start as soon as it has started, not once it is ready`,
      );
    pod.editor.addKey(path, 'restartPolicy', 'Always', { after: ['image', 'name'] });
    pod.editor.moveItem(path, pod.specPath, 'initContainers', 'containers');
  }
  if (mesh !== undefined) {
    const [annotation] = MESH_WIRING[mesh].nativeAnnotations;
    if (annotation !== undefined) pod.addAnnotations({ [annotation]: 'true' });
  }
  pod.note(
    'native sidecars need Kubernetes 1.29 or later (on by default there, GA in 1.33); the kubelet stops them once the main containers have ended',
  );
  return true;
}

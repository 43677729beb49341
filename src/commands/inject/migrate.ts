import {
  type Container,
  containersOf,
  INIT_CONTAINER,
  isData,
  KUBEXIT_VOLUME,
  nameOf,
  runsKubexit,
  wordsOf,
} from './data.ts';
import type { PodView } from './pod-view.ts';
import { injectError } from './text-editor.ts';

/**
 * A pod already wired for the original kubexit — its containers run kubexit (first word
 * `/kubexit/kubexit` or `kubexit`, or inside a shell script) and no installer of this kubexit is
 * there — is migrated in place rather than wired again: its installer copies this kubexit (the
 * image changes; `cp /bin/kubexit /kubexit/kubexit` runs in it as it is), its commands, volumes
 * and KUBEXIT_* settings stay (drop-in), and /kubexit is mounted read-only where it is run.
 * Undefined when the pod is not such a pod; otherwise whether it changed.
 */
export function migrateFromOriginal(pod: PodView): boolean | undefined {
  const spec = pod.template.spec;
  const runners = pod.roles.containers.filter(runsKubexit);
  const inits = pod.initContainers;
  const ours =
    inits.some((c) => nameOf(c) === INIT_CONTAINER) ||
    containersOf(spec, 'volumes').some((v) => v.name === KUBEXIT_VOLUME && isData(v.image));
  if (runners.length === 0 || ours) return undefined;
  const index = inits.findIndex((c) => wordsOf(c).some((word) => word.includes('kubexit')));
  if (index < 0) {
    pod.note(
      `its containers (${runners.map(nameOf).join(', ')}) already run kubexit, and no init container here installs it (an image with kubexit inside?): left as it is`,
    );
    return false;
  }
  const installer = inits[index] as Container;
  const [program, ...rest] = wordsOf(installer);
  if (!/(^|\/)cp$/.test(program ?? '') || rest.length !== 2)
    throw injectError(
      `${pod.where}: init container ${nameOf(installer)} installs the original kubexit with "${wordsOf(installer).join(' ')}", which this kubexit's image can't run: make it command: [cp, /bin/kubexit, /kubexit/kubexit] (this image runs that as it is), or args: [install, /kubexit]`,
    );
  let changed = false;
  if (installer.image !== pod.options.image) {
    pod.editor.setScalar([...pod.specPath, 'initContainers', index], 'image', pod.options.image);
    changed = true;
  }
  for (const container of runners)
    for (const [i, mount] of containersOf(container, 'volumeMounts').entries())
      if (mount.mountPath === '/kubexit' && mount.readOnly !== true) {
        pod.editor.addKey([...pod.containerPath(container), 'volumeMounts', i], 'readOnly', true);
        changed = true;
      }
  if (changed)
    pod.note(
      `wired for the original kubexit: migrated in place — ${nameOf(installer)} now installs ${pod.options.image}, the commands and KUBEXIT_* settings of ${runners.map(nameOf).join(', ')} are kept, and /kubexit is mounted read-only where it is run`,
    );
  return changed;
}

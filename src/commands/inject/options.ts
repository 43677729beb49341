import type { ContainerRule } from './container-rules.ts';
import type { ImageCommand, ImageNeed } from './images.ts';
import type { Mesh } from './meshes.ts';

/** How inject wires the pods it is given. */
export interface InjectOptions {
  /** Containers to treat as sidecars, besides the pod's annotation and the known proxies. */
  readonly sidecars: readonly string[];
  /** Containers that are sidecars by a cluster-wide rule (name, image), unless the pod names its own. */
  readonly sidecarRules?: readonly ContainerRule[];
  /**
   * Containers that are main containers by a cluster-wide rule (Airflow's `base`): in a pod that
   * has one, every other container is a sidecar, unless the pod names its own.
   */
  readonly mainRules?: readonly ContainerRule[];
  /** A mesh whose proxy a webhook adds later; otherwise read from the pod's annotations. */
  readonly mesh?: Mesh;
  /** The mesh injects its proxy as a native sidecar (a cluster-wide setting of the mesh). */
  readonly meshNative?: boolean;
  /** container name → what its image runs, for containers without `command` (flags). */
  readonly entrypoints: ReadonlyMap<string, ImageCommand>;
  /** `imageKey(image, platform)` → what the image runs, as read from its registry. */
  readonly images?: ReadonlyMap<string, ImageCommand>;
  /** The platform of pods whose nodeSelector names none (`linux/amd64`). */
  readonly platform?: string;
  /**
   * Called for a container whose image's command is needed and not known, instead of failing:
   * the caller reads it from the registry and plans again.
   */
  readonly onImageNeeded?: (need: ImageNeed) => void;
  /** The kubexit image of the install init container (or of the image volume). */
  readonly image: string;
  /** Mount the kubexit image as an image volume instead of copying it with an init container. */
  readonly imageVolume?: boolean;
  /** Rewrite the sidecars as native sidecars instead of wrapping anything in kubexit. */
  readonly nativeSidecars?: boolean;
  /**
   * A main container's KUBEXIT_BIRTH_DEPS gains what is missing instead of being kept as it is:
   * the webhook, called again after another webhook added a proxy, set it the first time.
   */
  readonly extendBirthDeps?: boolean;
  /** Give Jobs a podFailurePolicy that fails them at once on a kubexit configuration error. */
  readonly podFailurePolicy?: boolean;
}

import { matchesRule } from './container-rules.ts';
import { type Container, containersOf, entryOf, nameOf, nativeSidecarsOf } from './data.ts';
import type { PodTemplate } from './kinds.ts';
import { proxyMesh } from './meshes.ts';
import type { InjectOptions } from './options.ts';
import { injectError } from './text-editor.ts';

/** The pod annotation that names a pod's sidecars (comma-separated container names). */
export const SIDECARS_ANNOTATION = 'kubexit.io/sidecars';

/** Proxies recognised by image: sidecars without being named. */
const KNOWN_PROXIES: ReadonlyArray<RegExp> = [
  /(^|\/)cloud-sql-proxy(:|@|$)/,
  /(^|\/)gce-proxy(:|@|$)/,
  /(^|\/)alloydb-auth-proxy(:|@|$)/,
  /(^|\/)pgbouncer(:|@|$)/,
  /(^|\/)envoy(:|@|$)/,
];

/** What each regular container of a pod is to kubexit. */
export interface Roles {
  readonly containers: readonly Container[];
  /** Containers that serve the main ones: started first, stopped when the mains have ended. */
  readonly sidecars: readonly Container[];
  /** Containers whose end ends the pod. */
  readonly mains: readonly Container[];
  /** Mesh proxies among the regular containers: never wrapped, neither mains nor sidecars. */
  readonly proxies: ReadonlySet<Container>;
}

/**
 * The roles of a pod's containers: sidecars by the flag, the pod's annotation and known proxy
 * images; mesh proxies apart; every other container a main one. A pod with no main container, or
 * an annotation naming a container it doesn't have, is an error naming the fix.
 */
export function rolesOf(
  template: PodTemplate,
  options: Pick<InjectOptions, 'sidecars' | 'sidecarRules' | 'mainRules'>,
  where: string,
): Roles {
  const containers = containersOf(template.spec, 'containers');
  const proxies = new Set(containers.filter((c) => proxyMesh(c) !== undefined));
  const names = containers.map(nameOf);
  const annotated = (entryOf(template.metadata?.annotations, SIDECARS_ANNOTATION) ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const native = nativeSidecarsOf(template.spec).map(nameOf);
  for (const name of annotated)
    if (!names.includes(name) && !native.includes(name))
      throw injectError(
        `${where}: ${SIDECARS_ANNOTATION} names ${name}, which is not one of its containers (${names.join(', ')})`,
      );
  // A pod that names its sidecars itself is taken at its word: the cluster's rules don't apply.
  const ruled = annotated.length === 0;
  const isMain = (container: Container) =>
    ruled && (options.mainRules ?? []).some((rule) => matchesRule(container, rule));
  const hasMain = containers.some(isMain);
  const isSidecar = (container: Container) =>
    options.sidecars.includes(nameOf(container)) ||
    annotated.includes(nameOf(container)) ||
    KNOWN_PROXIES.some((pattern) => pattern.test(String(container.image ?? ''))) ||
    (ruled && (options.sidecarRules ?? []).some((rule) => matchesRule(container, rule))) ||
    (hasMain && !isMain(container));
  const wrappable = containers.filter((container) => !proxies.has(container));
  const mains = wrappable.filter((container) => !isSidecar(container));
  if (mains.length === 0)
    throw injectError(
      `${where}: every container is a sidecar (${names.join(', ')}); at least one must be a main container, whose end ends the pod`,
    );
  return { containers, sidecars: wrappable.filter(isSidecar), mains, proxies };
}

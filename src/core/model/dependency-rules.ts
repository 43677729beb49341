import type { DeathDepsPolicy } from './config.ts';
import type { Tombstone } from './tombstone.ts';
import { isDead, isReady, stateOf } from './tombstone-state.ts';

/** What the graveyard says of each dependency: undefined when it has no valid tombstone. */
export type Snapshot = ReadonlyMap<string, Tombstone | undefined>;

/**
 * Birth dependencies that are not ready yet, in declaration order.
 *
 * Without the Kubernetes API, a dependency is ready when its tombstone says so. In API mode
 * (`apiReady` holds what the pod's status reports ready), it means what it means in kubexit: the
 * pod's status says the container is ready, so its readinessProbe decides; and a container wrapped
 * by kubexit with a ready check of its own must also have passed it (its tombstone no longer says
 * `Readiness: "pending"`).
 */
export function pendingBirthDeps(
  birthDeps: readonly string[],
  snapshot: Snapshot,
  apiReady?: ReadonlySet<string>,
): string[] {
  if (apiReady === undefined) return birthDeps.filter((name) => !isReady(snapshot.get(name)));
  return birthDeps.filter(
    (name) => !apiReady.has(name) || stateOf(snapshot.get(name)) === 'starting',
  );
}

/** Birth dependencies whose tombstone says they have died: they may never be ready again. */
export function deadBirthDeps(birthDeps: readonly string[], snapshot: Snapshot): string[] {
  return birthDeps.filter((name) => isDead(snapshot.get(name)));
}

/**
 * The death dependencies that have died when the policy says the child must stop, or undefined
 * when it must keep running. `any` is kubexit's rule; `all` waits for every one of them. With
 * `successOnly` (a pod whose kubelet restarts failed containers) only a death with exit 0 counts.
 */
export function deathTrigger(
  deathDeps: readonly string[],
  policy: DeathDepsPolicy,
  snapshot: Snapshot,
  { successOnly = false } = {},
): string[] | undefined {
  const counts = (tombstone: Tombstone | undefined) =>
    isDead(tombstone) && (!successOnly || tombstone?.exitCode === 0);
  const dead = deathDeps.filter((name) => counts(snapshot.get(name)));
  if (dead.length === 0) return undefined;
  if (policy === 'all' && dead.length < deathDeps.length) return undefined;
  return dead;
}

import type { DeathDepsPolicy } from './config.ts';
import type { Tombstone } from './tombstone.ts';
import { isDead, isReady } from './tombstone-state.ts';

/** What the graveyard says of each dependency: undefined when it has no valid tombstone. */
export type Snapshot = ReadonlyMap<string, Tombstone | undefined>;

/**
 * Birth dependencies that are not ready yet, in declaration order. `apiReady` holds the
 * containers the Kubernetes API reports ready: whichever source says ready first wins.
 */
export function pendingBirthDeps(
  birthDeps: readonly string[],
  snapshot: Snapshot,
  apiReady: ReadonlySet<string> = new Set(),
): string[] {
  return birthDeps.filter((name) => !isReady(snapshot.get(name)) && !apiReady.has(name));
}

/** Birth dependencies whose tombstone says they have died: they may never be ready again. */
export function deadBirthDeps(birthDeps: readonly string[], snapshot: Snapshot): string[] {
  return birthDeps.filter((name) => isDead(snapshot.get(name)));
}

/**
 * The death dependencies that have died when the policy says the child must stop, or undefined
 * when it must keep running. `any` is kubexit's rule; `all` waits for every one of them.
 */
export function deathTrigger(
  deathDeps: readonly string[],
  policy: DeathDepsPolicy,
  snapshot: Snapshot,
): string[] | undefined {
  const dead = deathDeps.filter((name) => isDead(snapshot.get(name)));
  if (dead.length === 0) return undefined;
  if (policy === 'all' && dead.length < deathDeps.length) return undefined;
  return dead;
}

import type { Tombstone } from './tombstone.ts';

/**
 * What a tombstone says of its container. This is the one place that decides it; the birth wait,
 * death dependencies, progress messages and `kubexit status` all ask here.
 *
 * - `absent`: no valid tombstone (not started yet, or garbage);
 * - `waiting`: a tombstone without `Born` (its supervisor is waiting for its own birth deps);
 * - `starting`: born, its readiness check has not passed yet;
 * - `ready`: born and ready (a tombstone without readiness information is ready once born:
 *   kubexit's, or one of a container without a check);
 * - `dead`: `Died` is set — or the supervisor was lost, which a dependent records as a death.
 */
export type TombstoneState = 'absent' | 'waiting' | 'starting' | 'ready' | 'dead';

export function stateOf(tombstone: Tombstone | undefined): TombstoneState {
  if (tombstone === undefined) return 'absent';
  if (tombstone.died !== undefined) return 'dead';
  if (tombstone.born === undefined) return 'waiting';
  return tombstone.readiness === 'pending' ? 'starting' : 'ready';
}

/** Born and not dead: kubexit's notion of a running container. */
export function isAlive(tombstone: Tombstone | undefined): boolean {
  const state = stateOf(tombstone);
  return state === 'starting' || state === 'ready';
}

export function isDead(tombstone: Tombstone | undefined): boolean {
  return stateOf(tombstone) === 'dead';
}

export function isReady(tombstone: Tombstone | undefined): boolean {
  return stateOf(tombstone) === 'ready';
}

/** Whether an alive tombstone promises a liveness socket that dependents can follow. */
export function hasLivenessSocket(tombstone: Tombstone | undefined): boolean {
  return isAlive(tombstone) && tombstone?.liveness === 'socket';
}

/** A short description for messages: `no tombstone`, `born, not ready`, `died, exit 1`, `lost`. */
export function describeState(tombstone: Tombstone | undefined): string {
  switch (stateOf(tombstone)) {
    case 'absent':
      return 'no tombstone';
    case 'waiting':
      return 'not born';
    case 'starting':
      return 'born, not ready';
    case 'ready':
      return 'ready';
    case 'dead':
      if (tombstone?.reason === 'lost') return 'lost: its supervisor is gone';
      return `died${tombstone?.exitCode === undefined ? '' : `, exit ${tombstone.exitCode}`}`;
  }
}

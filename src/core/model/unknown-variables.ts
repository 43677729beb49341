import { OPTION_SPECS } from './options.ts';

/** Variables kubexit's own parts pass to each other: never a user's typo. */
const INTERNAL = new Set(['KUBEXIT_CALLED_AS', 'KUBEXIT_READY_FD', 'KUBEXIT_DEBUG_CODE_CACHE']);
/** The most edits between a misspelt name and a known one for the known one to be suggested. */
const MAX_DISTANCE = 3;

/**
 * The `KUBEXIT_*` variables of `env` that kubexit doesn't know, each with the known name nearest
 * to it when one is close: a misspelt variable is otherwise ignored without a word
 * (`KUBEXIT_BIRTH_DEP=queue` and the main never waits).
 */
export function unknownVariables(
  env: Readonly<Record<string, string | undefined>>,
): Array<{ name: string; nearest?: string }> {
  const known = OPTION_SPECS.map((spec) => spec.env);
  return Object.keys(env)
    .filter((name) => name.startsWith('KUBEXIT_') && !known.includes(name) && !INTERNAL.has(name))
    .sort()
    .map((name) => {
      const [nearest] = known
        .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
        .filter(({ distance }) => distance <= MAX_DISTANCE)
        .sort((a, b) => a.distance - b.distance);
      return nearest === undefined ? { name } : { name, nearest: nearest.candidate };
    });
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

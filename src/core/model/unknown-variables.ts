import { nearest } from './nearest.ts';
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
      const near = nearest(name, known, MAX_DISTANCE);
      return near === undefined ? { name } : { name, nearest: near };
    });
}

import type { Config } from '../model/config.ts';
import type { Snapshot } from '../model/dependency-rules.ts';
import { nearest } from '../model/nearest.ts';
import type { Graveyard, Logger } from '../ports.ts';

/** Edits between a dependency's name and a tombstone's for the tombstone to be suggested. */
const MAX_DISTANCE = 2;

/**
 * Names at once a dependency that has no tombstone while a name a typo away has one
 * (`fowarder` while `forwarder` is there): otherwise the main waits until the birth timeout, and a
 * sidecar waiting for a death that can't come is named only after 30 s. Names that differ only in
 * their digits (`worker-1`, `worker-2`) are different containers, not typos.
 */
export async function reportNearNames(
  config: Pick<Config, 'birthDeps' | 'deathDeps' | 'name'>,
  snapshot: Snapshot,
  ports: { readonly graveyard: Graveyard; readonly logger: Logger },
): Promise<void> {
  const lists = [
    ['birth', config.birthDeps, 'KUBEXIT_BIRTH_DEPS'],
    ['death', config.deathDeps, 'KUBEXIT_DEATH_DEPS'],
  ] as const;
  const missing = lists.some(([, names]) => names.some((name) => !snapshot.get(name)));
  if (!missing) return;
  const present = (await ports.graveyard.names()).filter((name) => name !== config.name);
  for (const [kind, names, variable] of lists)
    for (const name of names) {
      if (snapshot.get(name)) continue;
      const candidates = present.filter((other) => !names.includes(other));
      const near = nearest(name, candidates, MAX_DISTANCE);
      if (near === undefined || withoutDigits(near) === withoutDigits(name)) continue;
      ports.logger.warn(
        `${kind} dependency "${name}" has no tombstone, but "${near}" has one: did you mean ${near}? (check ${variable})`,
      );
    }
}

function withoutDigits(name: string): string {
  return name.replace(/[0-9]/g, '');
}

import { SupervisorError } from '../model/errors.ts';
import { EXIT_CODES } from '../model/exit-codes.ts';
import type { Graveyard, Liveness, Logger } from '../ports.ts';
import { TombstoneWriter } from './tombstone-writer.ts';

/** What deciding who may write a name's tombstone needs. */
export interface ClaimPorts {
  readonly graveyard: Graveyard;
  readonly logger: Logger;
  /** Without liveness sockets nobody can be seen holding the name: the claim always succeeds. */
  readonly liveness?: Liveness;
}

/** Either this container's tombstone writer, or why the name is another live container's. */
export type NameClaim =
  | { readonly owned: true; readonly tombstone: TombstoneWriter }
  | { readonly owned: false; readonly refusal: SupervisorError };

/** Said instead of the tombstone by a container whose name is held by a live one. */
export const REFUSED_WRITES_NOTHING =
  'no tombstone written and no shutdown URL called: both belong to the live container of that name';

/**
 * The one place that decides who may write a name's tombstone, on every path that ends a
 * container (the supervisor's, an invalid configuration's, API mode's failure). Two containers
 * given one name would share one tombstone: the second would write its own death over the first's
 * life, and every container that depends on the first would be stopped while it still runs. While
 * a live supervisor holds the name's liveness socket, nobody else gets a writer. A restart after
 * the holder is gone finds nobody on the socket and gets one.
 */
export async function claimName(name: string, ports: ClaimPorts): Promise<NameClaim> {
  if (await isHeldByAnother(name, ports.liveness))
    return { owned: false, refusal: nameInUse(name, ports.graveyard.dir) };
  return { owned: true, tombstone: new TombstoneWriter(name, ports.graveyard, ports.logger) };
}

/** A liveness check that fails can't prove anybody holds the name: it is not a refusal. */
async function isHeldByAnother(name: string, liveness: Liveness | undefined): Promise<boolean> {
  if (liveness === undefined) return false;
  return liveness.isSurelyHeld(name).catch(() => false);
}

function nameInUse(name: string, dir: string): SupervisorError {
  return new SupervisorError(
    `another container of this pod runs as KUBEXIT_NAME=${name} (it holds ${dir}/.${name}.sock): give each container its own name; this one writes nothing, so the other's tombstone stays its own`,
    EXIT_CODES.config,
  );
}

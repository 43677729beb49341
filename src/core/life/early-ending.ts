import type { KnownSettings } from '../model/config.ts';
import { describeError } from '../model/errors.ts';
import type { Graveyard, Liveness } from '../ports.ts';
import { type EndingPorts, endLife } from './ending.ts';
import { claimName, REFUSED_WRITES_NOTHING } from './name-claim.ts';
import type { Outcome } from './outcome.ts';

/** What ending a container whose configuration could not be read needs. */
export interface EarlyEndingPorts extends Omit<EndingPorts, 'tombstone' | 'noTombstone'> {
  /** The graveyard of the known name and graveyard; undefined when either is not valid. */
  readonly graveyard?: Graveyard;
  readonly liveness?: Liveness;
}

const NO_VALID_NAME =
  'no tombstone can be written (the container name or the graveyard is not valid): containers that depend on this one will not see it end';

/**
 * Ends a container whose configuration could not be read, with whatever is known of it: the
 * tombstone when the name and graveyard are valid and the name is this container's to write
 * (claimName, as every other ending), the shutdown calls when their URLs are valid.
 */
export async function endBeforeLife(
  outcome: Outcome,
  known: KnownSettings,
  ports: EarlyEndingPorts,
): Promise<number> {
  const { graveyard, ...rest } = ports;
  if (known.name === undefined || graveyard === undefined)
    return endLife(outcome, known, { ...rest, noTombstone: NO_VALID_NAME });
  const claim = await claimName(known.name, { ...ports, graveyard });
  if (!claim.owned) {
    rest.logger.error(claim.refusal.message);
    return endLife(outcome, {}, { ...rest, noTombstone: REFUSED_WRITES_NOTHING });
  }
  try {
    await graveyard.prepare(known.name);
  } catch (error) {
    const noTombstone = `could not write the tombstone either: ${describeError(error)}`;
    return endLife(outcome, known, { ...rest, noTombstone });
  }
  return endLife(outcome, known, { ...rest, tombstone: claim.tombstone });
}

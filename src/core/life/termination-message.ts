import { redactSecrets } from '../model/redact.ts';
import type { Outcome } from './outcome.ts';

/** The kubelet keeps at most this many bytes of a container's termination message. */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;

/**
 * One line on why the container ended, for `kubectl describe pod`: the exit code, the reason (as
 * the tombstone's), the dependencies involved and what happened, e.g.
 * `kubexit: exit 0 (death-deps: main): child was killed by SIGTERM (exit 143); exiting 0 …`.
 * Without secrets (anyone who may read the pod reads it) and within the kubelet's limit.
 */
export function terminationMessage(outcome: Outcome): string {
  const involved = outcome.dependencies?.length ? `: ${outcome.dependencies.join(', ')}` : '';
  const what = outcome.message.replace(/\s*\n\s*/g, '; ');
  const line = redactSecrets(
    `kubexit: exit ${outcome.exitCode} (${outcome.reason}${involved}): ${what}`,
  );
  return truncateBytes(line, TERMINATION_MESSAGE_MAX_BYTES);
}

/** At most `max` bytes of UTF-8, cut between characters, ending in … when cut. */
function truncateBytes(text: string, max: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= max) return text;
  let kept = '';
  let bytes = encoder.encode('…').length;
  for (const character of text) {
    const size = encoder.encode(character).length;
    if (bytes + size > max) break;
    kept += character;
    bytes += size;
  }
  return `${kept}…`;
}

import { parseDocument } from 'yaml';
import { type ParsedTombstone, parseSimpleTombstone, readFields } from './tombstone.ts';

/**
 * Parses a tombstone written by kubexit, by us, or by hand in any YAML form. Keys are
 * case-insensitive and unknown keys are ignored, as kubexit does. The text comes from another
 * container: anything malformed yields a problem description, never an exception. The simple
 * form is read without the YAML library; this module, which loads it, is imported only when a
 * tombstone is in another form.
 */
export function parseTombstone(text: string): ParsedTombstone {
  return parseSimpleTombstone(text) ?? parseYamlTombstone(text);
}

function parseYamlTombstone(text: string): ParsedTombstone {
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: false });
  if (doc.errors.length > 0)
    return { ok: false, problem: `is not valid YAML (${firstLine(doc.errors[0]?.message)})` };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    return { ok: false, problem: `is not valid YAML (${firstLine(String(error))})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: 'is not a YAML mapping of Born, Died and ExitCode' };
  }
  return readFields(lowerCaseKeys(value as Record<string, unknown>));
}

function lowerCaseKeys(record: Record<string, unknown>): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const [key, value] of Object.entries(record)) map.set(String(key).toLowerCase(), value);
  return map;
}

function firstLine(message: string | undefined): string {
  return (message ?? 'unknown error').split('\n')[0]?.slice(0, 120) ?? '';
}

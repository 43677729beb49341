import { isData } from './data.ts';

/** One RFC 6902 operation, of the kinds a plan's result needs. */
export type PatchOperation =
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/**
 * The JSON Patch that turns `before` into `after`: maps compared key by key, lists item by item
 * when their length is kept, items added at the end (`/-`) or at the start (`/0`) when only that
 * happened, and otherwise the list replaced whole. Written by hand for this: an admission patch
 * must apply to the object as the API server holds it, and these few forms are the ones a plan
 * makes (keys added, items prepended or appended, a sidecar moved to initContainers).
 */
export function jsonPatchOf(before: unknown, after: unknown, path = ''): PatchOperation[] {
  if (isData(before) && isData(after)) return mapPatch(before, after, path);
  if (Array.isArray(before) && Array.isArray(after)) return listPatch(before, after, path);
  return sameJson(before, after) ? [] : [{ op: 'replace', path, value: after }];
}

function mapPatch(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  path: string,
): PatchOperation[] {
  const operations: PatchOperation[] = [];
  for (const key of Object.keys(before))
    if (!(key in after)) operations.push({ op: 'remove', path: `${path}/${pointerStep(key)}` });
  for (const [key, value] of Object.entries(after)) {
    const at = `${path}/${pointerStep(key)}`;
    if (!(key in before)) operations.push({ op: 'add', path: at, value });
    else operations.push(...jsonPatchOf(before[key], value, at));
  }
  return operations;
}

function listPatch(before: unknown[], after: unknown[], path: string): PatchOperation[] {
  if (before.length === after.length)
    return after.flatMap((item, index) => jsonPatchOf(before[index], item, `${path}/${index}`));
  const added = after.length - before.length;
  if (added > 0 && before.every((item, index) => sameJson(item, after[index])))
    return after.slice(before.length).map((value) => ({ op: 'add', path: `${path}/-`, value }));
  if (added > 0 && before.every((item, index) => sameJson(item, after[index + added])))
    return after
      .slice(0, added)
      .map((value, index) => ({ op: 'add', path: `${path}/${index}`, value }));
  return [{ op: 'replace', path, value: after }];
}

/** A JSON Pointer step (RFC 6901): `~` and `/` escaped. */
function pointerStep(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Equal as JSON values: maps whatever their key order, lists item by item. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  if (isData(a) && isData(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => key in b && sameJson(a[key], b[key]))
    );
  }
  return a === b;
}

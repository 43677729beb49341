import { parseAllDocuments } from 'yaml';
import { applyEdits } from './edits.ts';
import type { ImageNeed } from './images.ts';
import { jsonPatchOf, type PatchOperation } from './json-patch.ts';
import { type InjectOptions, planObject } from './plan.ts';
import type { Notice } from './probes.ts';
import { injectError, JsonEditor, YamlDocumentEditor, YamlText } from './text-editor.ts';

/**
 * `kubexit inject`: wires kubexit into Kubernetes manifests, the edit users otherwise make by
 * hand in every container (and where a missing death dependency is a Job that hangs).
 *
 * The plan of each object (plan.ts) decides what its pods need and says so on stderr when they
 * need nothing; its edits are made here on the text, so that what inject has no reason to touch
 * stays byte for byte, or returned as a JSON Patch for an object (the admission webhook). Only
 * what is missing is added, so that injecting an injected manifest changes nothing.
 */
export function inject(text: string, options: InjectOptions, notice: Notice = () => {}): string {
  const seen = new Set<string>();
  const json = jsonOf(text);
  let output: string;
  if (json !== undefined) {
    const edits = planObject(json, [], 'the JSON manifest', options, notice, seen);
    const editor = new JsonEditor(json);
    applyEdits(edits, editor);
    output = edits.length > 0 ? editor.print(text) : text;
  } else {
    const out = new YamlText(text);
    for (const [index, document] of parseAllDocuments(text, { merge: true }).entries()) {
      const where = `document ${index + 1}`;
      if (document.errors.length > 0)
        throw injectError(`${where} is not valid YAML: ${document.errors[0]?.message}`);
      const edits = planObject(document.toJS(), [], where, options, notice, seen);
      applyEdits(edits, new YamlDocumentEditor(out, document));
    }
    output = out.result();
  }
  checkFlagsNamedContainers(options, seen);
  return output;
}

/**
 * The containers of a manifest whose image's ENTRYPOINT and CMD inject needs and was not given:
 * what the caller reads from the registry before injecting. Nothing is said on the way.
 */
export function imagesNeeded(text: string, options: InjectOptions): ImageNeed[] {
  const json = jsonOf(text);
  const roots =
    json !== undefined
      ? [json]
      : parseAllDocuments(text, { merge: true }).map((document) => document.toJS());
  return roots.flatMap((root, index) => imagesNeededFor(root, options, `document ${index + 1}`));
}

/** The containers of one object whose image's ENTRYPOINT and CMD the plan needs. */
export function imagesNeededFor(
  object: unknown,
  options: InjectOptions,
  where = 'the pod',
): ImageNeed[] {
  const needs: ImageNeed[] = [];
  const planning = { ...options, onImageNeeded: (need: ImageNeed) => needs.push(need) };
  planObject(object, [], where, planning, () => {}, new Set());
  return needs;
}

/** The plan for one object (a Pod, as an admission request holds it) as a JSON Patch. */
export function injectPatch(
  object: unknown,
  options: InjectOptions,
  notice: Notice = () => {},
): PatchOperation[] {
  const edits = planObject(object, [], 'the pod', options, notice, new Set());
  if (edits.length === 0) return [];
  const editor = new JsonEditor(structuredClone(object));
  applyEdits(edits, editor);
  return jsonPatchOf(object, editor.finish());
}

/** A --sidecar or --entrypoint naming no container of the manifest is a typo, not a no-op. */
function checkFlagsNamedContainers(options: InjectOptions, seen: ReadonlySet<string>): void {
  const unknownSidecars = options.sidecars.filter((name) => !seen.has(name));
  if (unknownSidecars.length > 0)
    throw injectError(
      `--sidecar ${unknownSidecars.join(', ')}: no such container in any pod; name containers of spec.containers (or native sidecars)`,
    );
  const unknownEntrypoints = [...options.entrypoints.keys()].filter((name) => !seen.has(name));
  if (unknownEntrypoints.length > 0)
    throw injectError(
      `--entrypoint ${unknownEntrypoints.join(', ')}: no such container in any pod`,
    );
}

/** A JSON manifest (an object or a list of them), or undefined for YAML. */
function jsonOf(text: string): unknown {
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // YAML's flow style starts so too; its parser names any error.
  }
}

import type { ManifestEditor, Path, Placement } from './text-editor.ts';

/**
 * inject's plan for a manifest: the edits it needs, as data. The same plan is applied to a
 * file's text (the text editor, everything else byte for byte) or to a pod object (a JSON Patch,
 * for the admission webhook): one engine for both.
 */
export type Edit =
  | {
      readonly op: 'addItem';
      readonly path: Path;
      readonly value: unknown;
      readonly first: boolean;
    }
  | {
      readonly op: 'addKey';
      readonly path: Path;
      readonly key: string;
      readonly value: unknown;
      readonly placement: Placement;
    }
  | { readonly op: 'renameKey'; readonly path: Path; readonly from: string; readonly to: string }
  | { readonly op: 'setScalar'; readonly path: Path; readonly key: string; readonly value: string }
  | {
      readonly op: 'moveItem';
      readonly from: Path;
      readonly to: Path;
      readonly key: string;
      readonly before?: string;
    };

/** Takes the edits the planning code asks for and keeps them, in order. */
export class PlanRecorder implements ManifestEditor {
  readonly edits: Edit[] = [];

  addItem(path: Path, value: unknown, first = false): void {
    this.edits.push({ op: 'addItem', path, value, first });
  }

  addKey(path: Path, key: string, value: unknown, placement: Placement = {}): void {
    this.edits.push({ op: 'addKey', path, key, value, placement });
  }

  renameKey(path: Path, from: string, to: string): void {
    this.edits.push({ op: 'renameKey', path, from, to });
  }

  setScalar(path: Path, key: string, value: string): void {
    this.edits.push({ op: 'setScalar', path, key, value });
  }

  moveItem(from: Path, to: Path, key: string, before?: string): void {
    this.edits.push({ op: 'moveItem', from, to, key, ...(before === undefined ? {} : { before }) });
  }
}

/** Makes a plan's edits with an editor of a text or of data. */
export function applyEdits(edits: readonly Edit[], editor: ManifestEditor): void {
  for (const edit of edits) {
    if (edit.op === 'addItem') editor.addItem(edit.path, edit.value, edit.first);
    else if (edit.op === 'addKey') editor.addKey(edit.path, edit.key, edit.value, edit.placement);
    else if (edit.op === 'renameKey') editor.renameKey(edit.path, edit.from, edit.to);
    else if (edit.op === 'setScalar') editor.setScalar(edit.path, edit.key, edit.value);
    else editor.moveItem(edit.from, edit.to, edit.key, edit.before);
  }
}

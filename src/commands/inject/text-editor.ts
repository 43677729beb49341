import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  stringify,
  visit,
} from 'yaml';
import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';

/**
 * The few edits `kubexit inject` makes to a manifest, made on its text so that everything else
 * stays byte for byte as the user wrote it: indentation, flow or block style, quotes, comments.
 *
 * Written by hand: the yaml package's Document API re-renders a whole document on output (a list
 * re-indented, `{ a: 1 }` printed as `{a: 1}`), and a JSON manifest came out as YAML. Here each
 * edit is a splice of the original text, placed by the source ranges the parser reports, in the
 * style found around it; JSON manifests are edited as data and printed as JSON again.
 */
export type Path = ReadonlyArray<string | number>;

/** Where a new key goes in a map: after the first of `after` present, or before `before`. */
export interface Placement {
  readonly after?: readonly string[];
  readonly before?: string;
}

export interface ManifestEditor {
  /** Adds `value` to the (existing) list at `path`: at its end, or first. */
  addItem(path: Path, value: unknown, first?: boolean): void;
  /** Adds `key: value` to the map at `path`, where `key` is absent or null. */
  addKey(path: Path, key: string, value: unknown, placement?: Placement): void;
  /** Renames a key of the map at `path`, its value untouched. */
  renameKey(path: Path, from: string, to: string): void;
  /** Replaces the scalar value of `key` in the map at `path` (a comment after it stays). */
  setScalar(path: Path, key: string, value: string): void;
  /**
   * Moves the list item at `from` (with the edits made inside it) to the end of the list at
   * `key` of the map `to`, creating that list (before `before`) when it is missing.
   */
  moveItem(from: Path, to: Path, key: string, before?: string): void;
}

export function injectError(message: string): SupervisorError {
  return new SupervisorError(`kubexit inject: ${message}`, EXIT_CODES.config);
}

/** Sequences of scalars (`command`, `args`, `drop`) are written inline, as people write them. */
function toYamlNode(document: Document, value: unknown, allFlow: boolean): Node {
  const node = document.createNode(value) as Node;
  visit(node, {
    Seq(_, seq) {
      if (allFlow || seq.items.every((item) => isScalar(item))) seq.flow = true;
    },
    Map(_, map) {
      if (allFlow) map.flow = true;
    },
  });
  return node;
}

interface Splice {
  start: number;
  end: number;
  text: string;
  /** Where the edited node starts: an edit moves with an item when its node is in the item. */
  anchor: number;
}

interface Move {
  /** The item's whole lines. */
  readonly start: number;
  readonly end: number;
  /** Columns to add to each of its lines (negative: to remove). */
  readonly shift: number;
  /** Where the moved lines go: an insertion point, and the text around them there. */
  readonly at: number;
  readonly prefix: string;
  readonly suffix: string;
}

/** Every edit of one YAML stream, applied at the end in one pass over the original text. */
export class YamlText {
  readonly #text: string;
  readonly #splices: Splice[] = [];
  readonly #moves: Move[] = [];
  /** The text's own line ends: what inject adds ends its lines the same way. */
  readonly #eol: string;

  constructor(text: string) {
    this.#text = text;
    const crlf = text.match(/\r\n/g)?.length ?? 0;
    this.#eol = crlf > 0 && crlf >= (text.match(/\n/g)?.length ?? 0) - crlf ? '\r\n' : '\n';
  }

  get text(): string {
    return this.#text;
  }

  splice(start: number, end: number, text: string, anchor = start): void {
    this.#splices.push({ start, end, text: this.#lineEnds(text), anchor });
  }

  move(move: Move): void {
    const { prefix, suffix } = move;
    this.#moves.push({ ...move, prefix: this.#lineEnds(prefix), suffix: this.#lineEnds(suffix) });
  }

  #lineEnds(text: string): string {
    return this.#eol === '\n' ? text : text.replace(/\r?\n/g, this.#eol);
  }

  /** The text with every edit made (see apply for the order at one point). */
  result(): string {
    const inside = (splice: Splice, move: Move) =>
      splice.anchor >= move.start && splice.anchor < move.end;
    const outer = this.#splices.filter((splice) => !this.#moves.some((m) => inside(splice, m)));
    for (const move of this.#moves) {
      const inner = this.#splices
        .filter((splice) => inside(splice, move))
        .map((s) => ({ ...s, start: s.start - move.start, end: s.end - move.start }));
      const lines = apply(this.#text.slice(move.start, move.end), inner);
      const shifted = lines.replace(/^(.*)$/gm, (line) =>
        line === ''
          ? line
          : move.shift >= 0
            ? ' '.repeat(move.shift) + line
            : line.slice(Math.min(-move.shift, line.length - line.trimStart().length)),
      );
      outer.push({ start: move.start, end: move.end, text: '', anchor: move.start });
      const text = move.prefix + shifted + move.suffix;
      outer.push({ start: move.at, end: move.at, text, anchor: move.at });
    }
    return apply(this.#text, outer);
  }
}

/**
 * Makes the edits. Edits at one point go innermost node first (the one whose node starts last):
 * items appended to a list that ends there (a container's last key, volumeMounts) belong to it,
 * and must come before a key added after it to the map around it (env); edits to one node keep
 * the order they were made in.
 */
function apply(text: string, splices: readonly Splice[]): string {
  const ordered = splices
    .map((splice, order) => ({ splice, order }))
    .sort(
      (a, b) =>
        a.splice.start - b.splice.start || b.splice.anchor - a.splice.anchor || a.order - b.order,
    )
    .map(({ splice }) => splice);
  let out = '';
  let cursor = 0;
  for (const splice of ordered) {
    if (splice.start > cursor) out += text.slice(cursor, splice.start);
    out += splice.text;
    cursor = Math.max(cursor, splice.end);
  }
  return out + text.slice(cursor);
}

/** The edits of one YAML document, in the style of its own text. */
export class YamlDocumentEditor implements ManifestEditor {
  readonly #out: YamlText;
  readonly #document: Document;
  readonly #text: string;
  /** Columns a nested map is indented by. */
  readonly #step: number;
  /** Columns a block list's `- ` is indented by under its key (0 in kubectl's output). */
  readonly #listIndent: number;
  /** Anchors some alias refers to: a node under one of them is written once and used twice. */
  readonly #aliased = new Set<string>();
  /** Items added so far to each empty flow collection. */
  readonly #addedToEmpty = new Map<Node, number>();

  constructor(out: YamlText, document: Document) {
    this.#out = out;
    this.#document = document;
    this.#text = out.text;
    const style = this.#styleOf();
    this.#step = style.step;
    this.#listIndent = style.listIndent;
    visit(document, {
      Alias: (_, alias) => {
        this.#aliased.add(alias.source);
      },
    });
  }

  addItem(path: Path, value: unknown, first = false): void {
    const list = this.#node(path);
    if (!isSeq(list)) throw injectError(`${where(path)} is not a list`);
    if (list.flow) {
      this.#insertInFlow(list, (padded) => this.#flowText(value, padded), first);
      return;
    }
    const item = list.items[first ? 0 : list.items.length - 1] as Node | undefined;
    if (item?.range == null) throw injectError(`${where(path)}: an empty block list`);
    const dash = this.#dashColumn(item);
    const body = this.#blockText(value).replace(/\n(?=.)/g, '\n  ');
    const text = indentLines(`- ${body}`, dash);
    const at = first ? lineStart(this.#text, item.range[0]) : this.#lineAfter(item.range[1]);
    this.#out.splice(at, at, this.#newlineBefore(at) + text, list.range?.[0]);
  }

  addKey(path: Path, key: string, value: unknown, placement: Placement = {}): void {
    const map = this.#node(path);
    if (!isMap(map)) throw injectError(`${where(path)} is not a map`);
    const existing = map.items.find((pair) => keyOf(pair) === key);
    if (map.flow) {
      if (existing !== undefined) throw injectError(`${where([...path, key])} is empty: remove it`);
      const pair = (padded: boolean) =>
        this.#flowText({ [key]: value }, padded)
          .slice(1, -1)
          .trim();
      this.#insertInFlow(map, pair, false);
      return;
    }
    const first = map.items[0] as Pair<Node, Node> | undefined;
    if (first?.key?.range == null) throw injectError(`${where(path)}: an empty map`);
    const column = columnOf(this.#text, first.key.range[0]);
    const text = indentLines(this.#blockText({ [key]: value }), column);
    if (existing !== undefined) {
      // `key:` with nothing (null): its line is replaced by the key with its value.
      const keyNode = existing.key as Node;
      const start = lineStart(this.#text, keyNode.range?.[0] ?? 0);
      if (this.#text.slice(start, keyNode.range?.[0]).trim() !== '')
        throw injectError(`${where([...path, key])} is empty: remove it or give it a value`);
      const end = this.#lineAfter(
        (existing.value as Node | null)?.range?.[1] ?? keyNode.range?.[1] ?? 0,
      );
      this.#out.splice(start, end, text, map.range?.[0]);
      return;
    }
    const after = placement.after
      ?.map((name) => map.items.find((pair) => keyOf(pair) === name))
      .find((pair) => pair !== undefined);
    const before = map.items.find((pair) => keyOf(pair) === placement.before);
    const beforeKey = before?.key as Node | undefined;
    let at: number;
    if (after !== undefined) at = this.#lineAfter(pairEnd(after));
    else if (
      beforeKey?.range != null &&
      this.#text.slice(lineStart(this.#text, beforeKey.range[0]), beforeKey.range[0]).trim() === ''
    )
      at = lineStart(this.#text, beforeKey.range[0]);
    else at = this.#lineAfter(pairEnd(map.items[map.items.length - 1] as Pair));
    this.#out.splice(at, at, this.#newlineBefore(at) + text, map.range?.[0]);
  }

  renameKey(path: Path, from: string, to: string): void {
    const map = this.#node(path);
    const pair = isMap(map) ? map.items.find((p) => keyOf(p) === from) : undefined;
    const range = (pair?.key as Node | undefined)?.range;
    if (range == null) throw injectError(`${where([...path, from])} is missing`);
    this.#out.splice(range[0], range[1], to);
  }

  setScalar(path: Path, key: string, value: string): void {
    const map = this.#node(path);
    const pair = isMap(map) ? map.items.find((p) => keyOf(p) === key) : undefined;
    const node = pair?.value as Node | null | undefined;
    if (node == null || !isScalar(node) || node.range == null)
      throw injectError(`${where([...path, key])} is not a plain value`);
    this.#out.splice(node.range[0], node.range[1], this.#flowText(value, false));
  }

  moveItem(from: Path, to: Path, key: string, before?: string): void {
    const item = this.#node(from);
    const list = this.#node(from.slice(0, -1));
    if (!isSeq(list) || list.flow || item.range == null)
      throw injectError(
        `${where(from.slice(0, -1))} must be a block list (one "- " per item) to move items out of it`,
      );
    let start = lineStart(this.#text, item.range[0]);
    // The comment lines just above an item are about it: they go with it.
    for (
      let above = lineStart(this.#text, start - 1);
      start > 0;
      above = lineStart(this.#text, above - 1)
    ) {
      if (!this.#text.slice(above, start).trim().startsWith('#')) break;
      start = above;
    }
    const end = this.#lineAfter(item.range[1]);
    const dash = this.#dashColumn(item);
    const target = this.#node(to);
    if (!isMap(target)) throw injectError(`${where(to)} is not a map`);
    const existing = target.get(key, true) as Node | undefined;
    if (isSeq(existing) && existing.items.length > 0) {
      if (existing.flow)
        throw injectError(`${where([...to, key])} must be a block list to move items into it`);
      const last = existing.items[existing.items.length - 1] as Node;
      const at = this.#lineAfter(last.range?.[1] ?? 0);
      const shift = this.#dashColumn(last) - dash;
      this.#out.move({ start, end, shift, at, prefix: this.#newlineBefore(at), suffix: '' });
      return;
    }
    if (existing !== undefined && !isScalar(existing))
      throw injectError(`${where([...to, key])} is not a list`);
    // A new list: its key where the others are, its items as the list they came from.
    const firstKey = (target.items[0] as Pair<Node>).key;
    const column = columnOf(this.#text, firstKey.range?.[0] ?? 0);
    const beforePair = target.items.find((pair) => keyOf(pair) === before);
    const at =
      beforePair === undefined
        ? this.#lineAfter(pairEnd(target.items[target.items.length - 1] as Pair))
        : lineStart(this.#text, (beforePair.key as Node).range?.[0] ?? 0);
    const shift = column + this.#listIndent - dash;
    this.#out.move({
      start,
      end,
      shift,
      at,
      prefix: `${this.#newlineBefore(at)}${' '.repeat(column)}${key}:\n`,
      suffix: '',
    });
  }

  /**
   * The node at `path`, written out: not an alias, not under an anchor used again elsewhere (an
   * edit there would change every place that uses it), not a key a merge (`<<: *base`) gives.
   */
  #node(path: Path): Node {
    let node: unknown = this.#document.contents;
    for (let index = 0; ; index++) {
      const at = where(path.slice(0, index));
      if (isAlias(node))
        throw injectError(
          `${at} is a YAML alias (*${node.source}): inject edits only what is written out; expand it`,
        );
      const anchor = (node as Node | undefined)?.anchor;
      if (anchor !== undefined && this.#aliased.has(anchor))
        throw injectError(
          `${at} is anchored (&${anchor}) and used again as *${anchor}: an edit here would change both; expand the alias`,
        );
      const step = path[index];
      if (step === undefined) return node as Node;
      const parent = node;
      if (isMap(parent)) node = parent.items.find((pair) => keyOf(pair) === step)?.value;
      else if (isSeq(parent) && typeof step === 'number') node = parent.items[step];
      else node = undefined;
      if (isMap(parent) && node === undefined && parent.items.some(isMergeKey))
        throw injectError(
          `${where(path.slice(0, index + 1))} comes from a YAML merge key (<<): inject edits only what is written out; write it into the map`,
        );
      if (node === undefined || node === null)
        throw injectError(`${where(path.slice(0, index + 1))} is missing`);
    }
  }

  /** The value as block YAML, unindented, in this document's style. */
  #blockText(value: unknown): string {
    return stringify(toYamlNode(this.#document, value, false), {
      indent: this.#step,
      indentSeq: this.#listIndent > 0,
      lineWidth: 0,
      flowCollectionPadding: false,
    });
  }

  #flowText(value: unknown, padded: boolean): string {
    return stringify(toYamlNode(this.#document, value, true), {
      lineWidth: 0,
      flowCollectionPadding: padded,
    }).trimEnd();
  }

  /**
   * Adds an item (or `key: value`) to a flow list (or map), rendered with the spacing inside
   * its brackets (`[ a ]` or `[a]`).
   */
  #insertInFlow(collection: Node, render: (padded: boolean) => string, first: boolean): void {
    const [start, end] = collection.range ?? [0, 0];
    const open = start + 1;
    const close = this.#text.lastIndexOf(isSeq(collection) ? ']' : '}', end);
    const inner = this.#text.slice(open, close);
    const text = render(/^[ \t]/.test(inner));
    if (inner.trim() === '') {
      // An empty `[]` or `{}`: the first item replaces its inside, the next ones follow it.
      const added = this.#addedToEmpty.get(collection) ?? 0;
      this.#addedToEmpty.set(collection, added + 1);
      if (added === 0) this.#out.splice(open, close, text, start);
      else this.#out.splice(close, close, `, ${text}`, start);
      return;
    }
    if (first) {
      const at = open + (inner.length - inner.trimStart().length);
      this.#out.splice(at, at, `${text}, `, start);
      return;
    }
    const at = open + inner.trimEnd().length;
    this.#out.splice(at, at, inner.trimEnd().endsWith(',') ? ` ${text}` : `, ${text}`, start);
  }

  /** The column of the `- ` before a block list item. */
  #dashColumn(item: Node): number {
    const start = item.range?.[0] ?? 0;
    // Before the item: an item may start with a dash of its own (`- --verbose`).
    const dash = this.#text.lastIndexOf('-', start - 1);
    return columnOf(this.#text, dash);
  }

  /** The start of the line after the one `position` is on (or `position`, at a line start). */
  #lineAfter(position: number): number {
    if (position > 0 && this.#text[position - 1] === '\n') return position;
    const newline = this.#text.indexOf('\n', position);
    return newline < 0 ? this.#text.length : newline + 1;
  }

  /** A newline when text is inserted at the end of a last line that has none. */
  #newlineBefore(at: number): string {
    return at > 0 && at === this.#text.length && this.#text[at - 1] !== '\n' ? '\n' : '';
  }

  /** The document's own indentation: of a nested map, and of a list under its key. */
  #styleOf(): { step: number; listIndent: number } {
    let step: number | undefined;
    let listIndent: number | undefined;
    visit(this.#document, {
      Pair: (_, pair) => {
        const key = pair.key as Node | null;
        const value = pair.value as Node | null;
        if (key?.range == null || value?.range == null) return;
        if (step === undefined && isMap(value) && !value.flow) {
          const child = (value.items[0]?.key as Node | undefined)?.range;
          const difference =
            child == null ? 0 : columnOf(this.#text, child[0]) - columnOf(this.#text, key.range[0]);
          if (difference > 0) step = difference;
        }
        if (listIndent === undefined && isSeq(value) && !value.flow && value.items.length > 0) {
          const difference =
            this.#dashColumn(value.items[0] as Node) - columnOf(this.#text, key.range[0]);
          if (difference >= 0) listIndent = difference;
        }
        return step !== undefined && listIndent !== undefined ? visit.BREAK : undefined;
      },
    });
    return { step: step ?? 2, listIndent: listIndent ?? step ?? 2 };
  }
}

/** The edits of a JSON manifest, made on its data; printed again as JSON in its indentation. */
export class JsonEditor implements ManifestEditor {
  readonly root: unknown;
  /** Items moved out of a list: removed when printed, so that every path stays valid till then. */
  readonly #removed = new Map<unknown[], Set<unknown>>();

  constructor(root: unknown) {
    this.root = root;
  }

  addItem(path: Path, value: unknown, first = false): void {
    const list = this.#at(path);
    if (!Array.isArray(list)) throw injectError(`${where(path)} is not a list`);
    if (first) list.unshift(value);
    else list.push(value);
  }

  addKey(path: Path, key: string, value: unknown, placement: Placement = {}): void {
    const map = this.#at(path) as Record<string, unknown>;
    const entries = Object.entries(map).filter(([name]) => name !== key);
    const after = placement.after?.find((name) => name in map);
    let at = entries.length;
    if (after !== undefined) at = entries.findIndex(([name]) => name === after) + 1;
    else if (placement.before !== undefined && placement.before in map)
      at = entries.findIndex(([name]) => name === placement.before);
    entries.splice(at, 0, [key, value]);
    replaceEntries(map, entries);
  }

  renameKey(path: Path, from: string, to: string): void {
    const map = this.#at(path) as Record<string, unknown>;
    replaceEntries(
      map,
      Object.entries(map).map(([name, value]) => [name === from ? to : name, value]),
    );
  }

  setScalar(path: Path, key: string, value: string): void {
    (this.#at(path) as Record<string, unknown>)[key] = value;
  }

  moveItem(from: Path, to: Path, key: string, before?: string): void {
    const item = this.#at(from);
    const list = this.#at(from.slice(0, -1)) as unknown[];
    this.#removed.set(list, (this.#removed.get(list) ?? new Set()).add(item));
    const target = this.#at(to) as Record<string, unknown>;
    if (Array.isArray(target[key])) (target[key] as unknown[]).push(item);
    else this.addKey(to, key, [item], before === undefined ? {} : { before });
  }

  /** The data with every edit made (items moved out of their lists gone from them). */
  finish(): unknown {
    for (const [list, items] of this.#removed) {
      const kept = list.filter((item) => !items.has(item));
      list.splice(0, list.length, ...kept);
    }
    this.#removed.clear();
    return this.root;
  }

  /** The manifest as JSON, indented as `original` was. */
  print(original: string): string {
    this.finish();
    const indent = /\n([ \t]+)\S/.exec(original)?.[1] ?? '';
    const printed = JSON.stringify(this.root, null, indent);
    const eol = original.includes('\r\n') ? '\r\n' : '\n';
    const ended = original.endsWith('\n') ? `${printed}\n` : printed;
    return eol === '\n' ? ended : ended.replace(/\n/g, eol);
  }

  #at(path: Path): unknown {
    let value: unknown = this.root;
    for (const step of path) value = (value as Record<string | number, unknown>)[step];
    return value;
  }
}

function replaceEntries(map: Record<string, unknown>, entries: Array<[string, unknown]>): void {
  for (const name of Object.keys(map)) delete map[name];
  for (const [name, value] of entries) map[name] = value;
}

/** `<<: *base`: the key of a merge (a symbol once the parser merges, `<<` otherwise). */
function isMergeKey(pair: Pair): boolean {
  return isScalar(pair.key) && (pair.key.source === '<<' || pair.key.value === '<<');
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function pairEnd(pair: Pair): number {
  return ((pair.value as Node | null)?.range ?? (pair.key as Node).range)?.[1] ?? 0;
}

function lineStart(text: string, position: number): number {
  return text.lastIndexOf('\n', position - 1) + 1;
}

function columnOf(text: string, position: number): number {
  return position - lineStart(text, position);
}

function indentLines(text: string, columns: number): string {
  const pad = ' '.repeat(columns);
  return text.replace(/^(?=.)/gm, pad);
}

function where(path: Path): string {
  return path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('') || '.';
}

import {
  type Container,
  containersOf,
  type Data,
  entryOf,
  isData,
  nameOf,
  nativeSidecarsOf,
} from './data.ts';
import type { PodTemplate } from './kinds.ts';
import { meshOf, type PodMesh } from './meshes.ts';
import type { InjectOptions } from './options.ts';
import type { Notice } from './probes.ts';
import { type Roles, rolesOf, SIDECARS_ANNOTATION } from './roles.ts';
import type { ManifestEditor, Path } from './text-editor.ts';

/**
 * One pod template as the planning code sees it: its containers' roles, its mesh, and the few
 * edits every way of wiring it shares (annotations, items added to lists).
 */
export class PodView {
  readonly template: PodTemplate;
  readonly editor: ManifestEditor;
  readonly options: InjectOptions;
  /** The pod, as messages name it (`document 2 (Job backup)`). */
  readonly where: string;
  readonly notice: Notice;
  readonly roles: Roles;
  readonly mesh: PodMesh | undefined;
  readonly restartPolicy: string;

  constructor(
    template: PodTemplate,
    editor: ManifestEditor,
    options: InjectOptions,
    where: string,
    notice: Notice,
  ) {
    this.template = template;
    this.editor = editor;
    this.options = options;
    this.where = where;
    this.notice = notice;
    this.roles = rolesOf(template, options, where);
    this.mesh = meshOf(template, this.roles.proxies, options);
    this.restartPolicy = String(template.spec.restartPolicy ?? 'Always');
  }

  get specPath(): Path {
    return [...this.template.path, 'spec'];
  }

  /** The path of a regular container of the pod. */
  containerPath(container: Container): Path {
    return [...this.specPath, 'containers', this.roles.containers.indexOf(container)];
  }

  note(message: string): void {
    this.notice('note', `${this.where}: ${message}`);
  }

  annotation(key: string): string | undefined {
    return entryOf(this.template.metadata?.annotations, key);
  }

  /** Adds the annotations the pod does not have yet (creating metadata or annotations). */
  addAnnotations(annotations: Readonly<Record<string, string>>): void {
    const missing = Object.entries(annotations).filter(
      ([key]) => this.annotation(key) === undefined,
    );
    if (missing.length === 0) return;
    const metadata = this.template.metadata;
    const metadataPath = [...this.template.path, 'metadata'];
    if (metadata === undefined)
      this.editor.addKey(
        this.template.path,
        'metadata',
        { annotations: Object.fromEntries(missing) },
        { before: 'spec' },
      );
    else if (!isData(metadata.annotations))
      this.editor.addKey(metadataPath, 'annotations', Object.fromEntries(missing));
    else
      for (const [key, value] of missing)
        this.editor.addKey([...metadataPath, 'annotations'], key, value);
  }

  /** Adds items to the list at `key` of `holder` (at `path`), creating the list if missing. */
  addToList(
    holder: Data,
    path: Path,
    key: string,
    items: readonly unknown[],
    placement: { first?: boolean; before?: string } = {},
  ): void {
    if (items.length === 0) return;
    if (Array.isArray(holder[key]))
      // First: one item only (the installer); several would come out in a different order.
      for (const item of items) this.editor.addItem([...path, key], item, placement.first);
    else
      this.editor.addKey(
        path,
        key,
        items,
        placement.before === undefined ? {} : { before: placement.before },
      );
  }

  /** The pod's init containers (native sidecars among them). */
  get initContainers(): Container[] {
    return containersOf(this.template.spec, 'initContainers');
  }

  /** Why a pod is left as it is when kubexit would change nothing in it. */
  nothingToGain(): string {
    const native = nativeSidecarsOf(this.template.spec).map(nameOf);
    const mesh = this.mesh?.native === true ? this.mesh.mesh : undefined;
    const { sidecars, containers } = this.roles;
    const why =
      native.length > 0
        ? `its sidecars (${native.join(', ')}) are native sidecars, which the kubelet already starts before and stops after the main containers`
        : sidecars.length > 0
          ? `its sidecars (${sidecars.map(nameOf).join(', ')}) have no readiness to wait for, and restartPolicy Always restarts whatever ends`
          : containers.length === 1
            ? `it has one container${mesh === undefined ? ' and no mesh proxy to stop' : ''}`
            : `none of its containers (${containers.map(nameOf).join(', ')}) is a sidecar; name them with --sidecar NAME or the ${SIDECARS_ANNOTATION} annotation`;
    const proxy =
      mesh === undefined
        ? ''
        : `, and its ${mesh} proxy runs as a native sidecar, which the kubelet starts first and stops itself`;
    return `left as it is, kubexit would change nothing: ${why}${proxy}`;
  }
}

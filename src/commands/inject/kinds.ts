import { type Data, isData } from './data.ts';
import type { Path } from './text-editor.ts';

/**
 * The kinds whose pod template the kubelet runs as a Pod, by API group: only these are injected.
 * A custom resource with a pod-like template (a Knative Service, a Volcano Job) is run by its own
 * platform, which may reject init containers and emptyDirs: it is left as it is, with a note.
 */
const POD_KINDS: Readonly<Record<string, readonly string[]>> = {
  '': ['Pod'],
  batch: ['Job', 'CronJob'],
  apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  extensions: ['Deployment', 'DaemonSet', 'ReplicaSet'],
};

/** Whether the object is a kind kubexit injects: its apiVersion's group and its kind. */
export function isPodKind(data: Data): boolean {
  const apiVersion = String(data.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return POD_KINDS[group]?.includes(String(data.kind)) ?? false;
}

/** Whether the object is a List (`kind: List`, or a `…List` with items, as kubectl prints). */
export function isList(data: Data): boolean {
  return data.kind === 'List' || (Array.isArray(data.items) && String(data.kind).endsWith('List'));
}

/** Whether an object of another kind has a pod template (worth a note that it is left alone). */
export function hasPodLikeTemplate(data: Data): boolean {
  return isData(data.spec) && isData(data.spec.template) && isData(data.spec.template.spec);
}

export interface PodTemplate {
  /** The path of the object holding metadata and spec (the pod, or its template). */
  readonly path: Path;
  readonly metadata: Data | undefined;
  readonly spec: Data;
}

/** A Pod's spec, or the pod template of a Job, CronJob, Deployment, StatefulSet… */
export function podTemplateOf(data: Data, path: Path): PodTemplate | undefined {
  const spec = data.spec;
  if (!isData(spec)) return undefined;
  if (data.kind === 'Pod') return holderOf(data, path);
  if (data.kind === 'CronJob' && isData(spec.jobTemplate) && isData(spec.jobTemplate.spec))
    return holderOf(spec.jobTemplate.spec.template, [
      ...path,
      'spec',
      'jobTemplate',
      'spec',
      'template',
    ]);
  return holderOf(spec.template, [...path, 'spec', 'template']);
}

function holderOf(object: unknown, at: Path): PodTemplate | undefined {
  return isData(object) && isData(object.spec) && Array.isArray(object.spec.containers)
    ? {
        path: at,
        metadata: isData(object.metadata) ? object.metadata : undefined,
        spec: object.spec,
      }
    : undefined;
}

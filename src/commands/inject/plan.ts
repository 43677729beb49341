import { containersOf, type Data, isData, nameOf, nativeSidecarsOf, runsKubexit } from './data.ts';
import { type Edit, PlanRecorder } from './edits.ts';
import { hasPodLikeTemplate, isList, isPodKind, podTemplateOf } from './kinds.ts';
import { migrateFromOriginal } from './migrate.ts';
import { toNativeSidecars } from './native.ts';
import type { InjectOptions } from './options.ts';
import { addPodFailurePolicy, jobSpecPath } from './pod-failure-policy.ts';
import { PodView } from './pod-view.ts';
import type { Notice } from './probes.ts';
import type { Path } from './text-editor.ts';
import { wireKubexit } from './wiring.ts';

export type { InjectOptions } from './options.ts';

/**
 * The plan for one object — a pod-bearing kind, or a List of them — at `path` of its document:
 * the edits it needs (none when it needs nothing). Pure: reads the object, says on `notice` what it
 * did not do, and adds to `seen` the names of the containers it met (for the flags' checks).
 */
export function planObject(
  data: unknown,
  path: Path,
  where: string,
  options: InjectOptions,
  notice: Notice,
  seen: Set<string>,
): Edit[] {
  const recorder = new PlanRecorder();
  planInto(data, path, where, { options, notice, seen, recorder });
  return recorder.edits;
}

interface Planning {
  readonly options: InjectOptions;
  readonly notice: Notice;
  readonly seen: Set<string>;
  readonly recorder: PlanRecorder;
}

function planInto(data: unknown, path: Path, where: string, planning: Planning): void {
  if (!isData(data)) return;
  if (isList(data)) {
    for (const [index, item] of (Array.isArray(data.items) ? data.items : []).entries())
      planInto(item, [...path, 'items', index], `${where} item ${index + 1}`, planning);
    return;
  }
  if (!isPodKind(data)) {
    if (hasPodLikeTemplate(data))
      planning.notice(
        'note',
        `${where} (${data.apiVersion} ${data.kind}): left as it is: its pod template is run by its own platform, not as a Kubernetes Pod, and that platform may refuse init containers and emptyDir volumes; wire kubexit in by hand if it allows them`,
      );
    return;
  }
  const template = podTemplateOf(data, path);
  if (template === undefined) return;
  // Native sidecars too: the same flags on inject's own --native-sidecars output name them there.
  for (const container of [
    ...containersOf(template.spec, 'containers'),
    ...nativeSidecarsOf(template.spec),
  ])
    planning.seen.add(nameOf(container));
  const metadata = isData(data.metadata) ? data.metadata : {};
  const named = `${where} (${data.kind} ${String(metadata.name ?? '(unnamed)')})`;
  const { options, notice, recorder } = planning;
  const pod = new PodView(template, recorder, options, named, notice);
  if (options.nativeSidecars === true) {
    toNativeSidecars(pod);
    return;
  }
  const migrated = migrateFromOriginal(pod);
  const changed = migrated ?? wireKubexit(pod);
  if (options.podFailurePolicy === true) planPodFailurePolicy(data, path, pod, changed);
}

/** `--pod-failure-policy`: a Job (or CronJob) whose pod runs kubexit gets the policy. */
function planPodFailurePolicy(data: Data, path: Path, pod: PodView, changed: boolean): void {
  const specPath = jobSpecPath(data, path);
  if (specPath === undefined) return;
  const wrapped = pod.roles.containers.some(runsKubexit);
  if (!changed && !wrapped) {
    pod.note('no podFailurePolicy added: no container of this pod runs kubexit');
    return;
  }
  const jobSpec = specPath.slice(path.length).reduce<unknown>((o, key) => (o as Data)?.[key], data);
  addPodFailurePolicy(jobSpec as Data, specPath, pod.restartPolicy, pod.editor, (message) =>
    pod.note(message),
  );
}

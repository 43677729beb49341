import { EXIT_CODES } from '../../core/model/exit-codes.ts';
import type { ManifestEditor, Path } from './text-editor.ts';

type Data = Record<string, unknown>;

/**
 * A Job's podFailurePolicy for kubexit: its configuration error (exit 2) fails the Job at once
 * instead of being retried backoffLimit times for nothing, and a pod lost to a disruption
 * (preemption, a drained node, eviction) is retried without counting against backoffLimit.
 */
export const POD_FAILURE_POLICY = {
  rules: [
    { action: 'FailJob', onExitCodes: { operator: 'In', values: [EXIT_CODES.config] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
  ],
};

/** Where a Job's spec is in a Job or a CronJob, or undefined for other kinds. */
export function jobSpecPath(data: Data, path: Path): Path | undefined {
  if (data.kind === 'Job') return [...path, 'spec'];
  if (data.kind === 'CronJob') return [...path, 'spec', 'jobTemplate', 'spec'];
  return undefined;
}

/**
 * Adds the policy to the Job spec at `specPath` (holding `jobSpec`) when it has none; says what
 * it did not do and why; true when it added it. A podFailurePolicy needs restartPolicy Never.
 */
export function addPodFailurePolicy(
  jobSpec: Data,
  specPath: Path,
  restartPolicy: string,
  editor: ManifestEditor,
  note: (message: string) => void,
): boolean {
  const existing = jobSpec.podFailurePolicy;
  if (existing !== undefined && existing !== null) {
    if (!failsOnConfigError(existing))
      note(
        `it has a podFailurePolicy of its own, left as it is: add a rule { action: FailJob, onExitCodes: { operator: In, values: [${EXIT_CODES.config}] } } so that a kubexit configuration error is not retried`,
      );
    return false;
  }
  if (restartPolicy !== 'Never') {
    note(
      `no podFailurePolicy added: Kubernetes accepts one only with restartPolicy Never (this pod's is ${restartPolicy})`,
    );
    return false;
  }
  editor.addKey(specPath, 'podFailurePolicy', POD_FAILURE_POLICY, {
    after: ['backoffLimitPerIndex', 'backoffLimit', 'completions', 'parallelism'],
    before: 'template',
  });
  note(
    `podFailurePolicy added: exit ${EXIT_CODES.config} (a kubexit configuration error) fails the Job at once, disruptions are retried without counting against backoffLimit; a command of your own that exits ${EXIT_CODES.config} also fails the Job at once`,
  );
  return true;
}

function failsOnConfigError(policy: unknown): boolean {
  const rules = (policy as Data | undefined)?.rules;
  if (!Array.isArray(rules)) return false;
  return rules.some((rule: Data) => {
    const codes = rule?.onExitCodes as Data | undefined;
    return (
      rule?.action === 'FailJob' &&
      codes?.operator === 'In' &&
      Array.isArray(codes.values) &&
      codes.values.includes(EXIT_CODES.config)
    );
  });
}

/**
 * The `restricted` Pod Security Standard (Kubernetes' pod-security admission, level restricted),
 * checked on a pod spec: what a cluster enforcing it would refuse. Each violation names the
 * container and the field.
 */
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}

interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: Array<{ hostPort?: number }>;
}

export interface PodSpec {
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: Array<Record<string, unknown> & { name: string }>;
  containers: Container[];
  initContainers?: Container[];
}

/** Volume types the restricted level allows. */
const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

export function restrictedViolations(spec: PodSpec): string[] {
  const problems: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const)
    if (spec[field] === true) problems.push(`pod: ${field} is true`);
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (type === undefined || !ALLOWED_VOLUMES.has(type))
      problems.push(`volume ${volume.name}: type ${type} is not allowed`);
  }
  const pod = spec.securityContext ?? {};
  if (pod.runAsUser === 0) problems.push('pod: runAsUser is 0');
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const own = container.securityContext ?? {};
    const where = `container ${container.name}`;
    if (own.privileged === true) problems.push(`${where}: privileged`);
    if (own.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (!(own.capabilities?.drop ?? []).includes('ALL'))
      problems.push(`${where}: capabilities must drop ALL`);
    for (const added of own.capabilities?.add ?? [])
      if (added !== 'NET_BIND_SERVICE') problems.push(`${where}: adds capability ${added}`);
    if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true)
      problems.push(`${where}: runAsNonRoot must be true (pod or container)`);
    if (own.runAsUser === 0) problems.push(`${where}: runAsUser is 0`);
    const seccomp = own.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push(`${where}: seccompProfile must be RuntimeDefault or Localhost`);
    for (const port of container.ports ?? [])
      if (port.hostPort !== undefined && port.hostPort !== 0)
        problems.push(`${where}: hostPort ${port.hostPort}`);
  }
  return problems;
}

/**
 * A container name is used as a file name in a graveyard shared by every container of the pod,
 * so it must be one safe path component: no separators, no `..`, no leading dot (dot files are
 * kubexit's temporary files), nothing a shell or YAML would reinterpret. Kubernetes container
 * names (DNS-1123 labels) always pass; upper case and `_` are allowed for local use.
 */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** Why a name is not usable as a tombstone file name, or undefined when it is fine. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.includes('/')) return 'contains "/" (it must be a single file name, not a path)';
  if (!SAFE_NAME.test(name)) {
    return 'must start with a letter or digit and contain only letters, digits, ".", "_" and "-" (at most 253)';
  }
  return undefined;
}

/** Whether the name is a safe tombstone file name. */
export function isSafeName(name: string): boolean {
  return nameProblem(name) === undefined;
}

/** A Kubernetes container name: a DNS-1123 label. */
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Why a usable name can't be a Kubernetes container name, or undefined: in a pod, KUBEXIT_NAME is
 * normally the container's own name, which others name as their dependency.
 */
export function containerNameProblem(name: string): string | undefined {
  if (CONTAINER_NAME.test(name)) return undefined;
  return `KUBEXIT_NAME "${name}" can't be a Kubernetes container name (lowercase letters, digits and "-", at most 63): fine outside a pod, but in one it is normally this container's name`;
}

/**
 * Reading a manifest's data as inject needs it: maps and lists as they are, whatever a user put
 * where a container or a list was expected (inject never trusts a manifest's shape).
 */
export type Data = Record<string, unknown>;
export type Container = Data & { name?: unknown };

/** Where this kubexit is run from in a wired container. */
export const KUBEXIT = '/kubexit/kubexit';

export function isData(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The maps of the list at `key` (containers, volumes, mounts…); anything else is skipped. */
export function containersOf(holder: Data, key: string): Container[] {
  const list = holder[key];
  return Array.isArray(list) ? list.filter(isData) : [];
}

export function nameOf(container: Container): string {
  return String(container.name ?? '');
}

/** The native sidecars of a pod spec: init containers with restartPolicy Always. */
export function nativeSidecarsOf(spec: Data): Container[] {
  return containersOf(spec, 'initContainers').filter((c) => c.restartPolicy === 'Always');
}

/** A container's command and args, as words. */
export function wordsOf(container: Container): string[] {
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return [...list(container.command), ...list(container.args)];
}

/** Whether a container already runs kubexit: its first word, or inside a shell script. */
export function runsKubexit(container: Container): boolean {
  const [first, ...rest] = wordsOf(container);
  if (first === KUBEXIT || first === 'kubexit') return true;
  return /(^|\/)(ba|da)?sh$/.test(first ?? '') && rest.some((word) => word.includes(KUBEXIT));
}

export function envValue(container: Container, name: string): string | undefined {
  const found = containersOf(container, 'env').find((item) => item.name === name);
  return found === undefined ? undefined : String(found.value ?? '');
}

/** A string-valued entry of a map of strings (annotations, labels, a nodeSelector). */
export function entryOf(map: unknown, key: string): string | undefined {
  const value = isData(map) ? map[key] : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

/** Bytes of a Kubernetes quantity (`64Mi`, `1G`, `134217728`, `1e9`); undefined if not one. */
export function parseQuantity(text: string): number | undefined {
  const match = /^([0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(
    text.trim(),
  );
  if (match === null) return undefined;
  const number = Number(match[1]);
  if (!Number.isFinite(number)) return undefined;
  return number * (match[2] === undefined ? 1 : (QUANTITY_UNITS[match[2]] ?? 1));
}

const QUANTITY_UNITS: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  m: 1e-3,
};

/** The names inject gives what it adds to a pod. */
export const GRAVEYARD_VOLUME = 'kubexit-graveyard';
export const KUBEXIT_VOLUME = 'kubexit';
export const INIT_CONTAINER = 'kubexit-install';

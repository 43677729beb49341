import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { canEmulateContainers, type RootFs, runInContainer } from './chroot-container.ts';
import type { FakeKubeApi } from './fake-kube-api.ts';
import type { Finished } from './kubexit.ts';
import { scratchDir } from './temp.ts';

/**
 * Why the emulator can't run here, or false when it can: it needs the built image tree `image`
 * (npm run build), root for namespaces and chroot, and ip netns from Debian's iproute2.
 */
export function emulatorSkip(image: string): string | false {
  if (!existsSync(image)) return 'dist/ is not built: run npm run build first';
  if (!canEmulateContainers) return 'unshare, chroot and ip netns need root here';
  if (spawnSync('ip', ['netns', 'list']).status !== 0)
    return 'ip netns (Debian iproute2) is not available';
  return false;
}

/** An image as the emulator knows it: a root filesystem maker and the image's entrypoint and cmd. */
export interface EmulatedImage {
  readonly rootfs: () => RootFs;
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
}

/** A tcpSocket readiness probe, its times already scaled for tests. */
export interface EmulatedProbe {
  readonly port: number;
  readonly initialDelayMs: number;
  readonly periodMs: number;
}

export interface EmulatedContainer {
  readonly name: string;
  readonly image: string;
  readonly readinessProbe?: EmulatedProbe;
  /** Kubernetes `command` (replaces the entrypoint) and `args` (replaces cmd). */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** mount path → volume name */
  readonly mounts: Readonly<Record<string, string>>;
  /** `uid:gid` from the pod's and the container's securityContext; root when unset. */
  readonly user?: string;
}

export interface EmulatedPod {
  readonly name: string;
  readonly initContainers: readonly EmulatedContainer[];
  readonly containers: readonly EmulatedContainer[];
}

export interface PodResult {
  readonly init: Record<string, Finished>;
  readonly containers: Record<string, Finished>;
}

/**
 * The kubelet's part the Kubernetes API shows: with it, the pod's network is joined to the host
 * by a veth pair, the fake API server listens on the host end, every container gets a kubeconfig
 * for it (KUBECONFIG: the stand-in for a service account token, which needs TLS), and each
 * container's readiness — its tcpSocket probe, or running when it has none — is published in the
 * pod status, as the kubelet does.
 */
export interface EmulatedKubelet {
  readonly api: FakeKubeApi;
}

/**
 * Runs a pod as the kubelet would, without a cluster: one network namespace for the pod (its
 * containers share localhost), an emptyDir per volume, init containers one after the other (a
 * failure stops the pod), then every container at once, each with its own PID and mount namespace
 * and its image's root filesystem. Needs root (see canEmulateContainers).
 */
export async function runPod(
  pod: EmulatedPod,
  images: Readonly<Record<string, EmulatedImage>>,
  kubelet?: EmulatedKubelet,
): Promise<PodResult> {
  const id = Math.floor(Math.random() * 1e6);
  const network = `kubexit-${pod.name}-${process.pid}-${id}`;
  ip(['netns', 'add', network]);
  const readiness = new Map<string, boolean>();
  const stops: Array<() => void> = [];
  try {
    ip(['-n', network, 'link', 'set', 'lo', 'up']);
    const credentials = kubelet === undefined ? undefined : await joinApi(network, id, kubelet);
    const publish = () => {
      const statuses = [...readiness].map(([name, ready]) => ({ name, ready }));
      kubelet?.api.setReady(statuses);
    };
    const volumes = new Map<string, string>();
    const volumeDir = (name: string) => {
      if (!volumes.has(name)) {
        const dir = scratchDir(`kubexit-volume-${name}-`);
        chmodSync(dir, 0o777); // as an emptyDir
        volumes.set(name, dir);
      }
      return volumes.get(name) as string;
    };
    const start = (container: EmulatedContainer) => {
      const image = images[container.image];
      if (image === undefined) throw new Error(`no emulated image ${container.image}`);
      const command = [
        ...(container.command ?? image.entrypoint ?? []),
        ...(container.args ?? image.cmd ?? []),
      ];
      const mounts = Object.fromEntries(
        Object.entries(container.mounts).map(([path, volume]) => [path, volumeDir(volume)]),
      );
      if (credentials !== undefined) mounts[CREDENTIALS_PATH] = credentials.dir;
      const env: Record<string, string> =
        credentials === undefined ? {} : { KUBECONFIG: `${CREDENTIALS_PATH}/kubeconfig` };
      const started = runInContainer(image.rootfs(), command, {
        env: { ...container.env, ...env },
        volumes: mounts,
        network,
        user: container.user,
      });
      if (kubelet !== undefined) {
        const probe = container.readinessProbe;
        readiness.set(container.name, probe === undefined);
        publish();
        if (probe !== undefined) {
          const set = (ready: boolean) => {
            if (readiness.get(container.name) === ready) return;
            readiness.set(container.name, ready);
            publish();
          };
          stops.push(probeTcp(credentials?.podIp as string, probe, set));
        }
        void started.finished.then(() => {
          readiness.set(container.name, false);
          publish();
        });
      }
      return started;
    };
    const init: Record<string, Finished> = {};
    for (const container of pod.initContainers) {
      init[container.name] = await start(container).finished;
      if (init[container.name]?.code !== 0) return { init, containers: {} };
    }
    const running = pod.containers.map((container) => [container.name, start(container)] as const);
    const containers: Record<string, Finished> = {};
    for (const [name, container] of running) containers[name] = await container.finished;
    return { init, containers };
  } finally {
    for (const stop of stops) stop();
    ip(['netns', 'delete', network]);
  }
}

/** Where containers find the emulator's kubeconfig. */
const CREDENTIALS_PATH = '/var/run/emulated-kubelet';

/** A veth pair between the host and the pod; the API server listens on the host end. */
async function joinApi(
  network: string,
  id: number,
  kubelet: EmulatedKubelet,
): Promise<{ dir: string; podIp: string }> {
  const subnet = `10.${200 + (id % 50)}.${Math.floor(id / 50) % 250}`;
  const [hostIp, podIp] = [`${subnet}.1`, `${subnet}.2`];
  const [hostEnd, podEnd] = [`kxh${id}`, `kxp${id}`];
  ip(['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', podEnd]);
  ip(['link', 'set', podEnd, 'netns', network]);
  ip(['addr', 'add', `${hostIp}/30`, 'dev', hostEnd]);
  ip(['link', 'set', hostEnd, 'up']);
  ip(['-n', network, 'addr', 'add', `${podIp}/30`, 'dev', podEnd]);
  ip(['-n', network, 'link', 'set', podEnd, 'up']);
  const dir = scratchDir('kubexit-kubelet-');
  chmodSync(dir, 0o755);
  await kubelet.api.kubeconfig(dir, hostIp);
  chmodSync(join(dir, 'kubeconfig'), 0o644);
  return { dir, podIp };
}

/** The kubelet's tcpSocket probe: after the initial delay, one connection attempt per period. */
function probeTcp(host: string, probe: EmulatedProbe, set: (ready: boolean) => void): () => void {
  let timer: NodeJS.Timeout;
  const attempt = () => {
    const socket = connect({ host, port: probe.port, timeout: probe.periodMs });
    const done = (ready: boolean) => {
      socket.destroy();
      set(ready);
      timer = setTimeout(attempt, probe.periodMs);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  };
  timer = setTimeout(attempt, probe.initialDelayMs);
  return () => clearTimeout(timer);
}

function ip(args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
}

interface K8sContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
  }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: SecurityContext;
  readinessProbe?: {
    tcpSocket?: { port: number };
    initialDelaySeconds?: number;
    periodSeconds?: number;
  };
}

/** Probe times are the manifest's divided by this, so tests take seconds, not minutes. */
const PROBE_TIME_SCALE = 10;

function probeOf(container: K8sContainer): EmulatedProbe | undefined {
  const probe = container.readinessProbe;
  if (probe?.tcpSocket === undefined) return undefined;
  return {
    port: probe.tcpSocket.port,
    initialDelayMs: ((probe.initialDelaySeconds ?? 0) * 1000) / PROBE_TIME_SCALE,
    periodMs: ((probe.periodSeconds ?? 10) * 1000) / PROBE_TIME_SCALE,
  };
}

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
}

/** The user a container runs as, as the kubelet decides it: the container's settings win. */
function userOf(pod?: SecurityContext, container?: SecurityContext): string | undefined {
  const uid = container?.runAsUser ?? pod?.runAsUser;
  if (uid === undefined) return undefined;
  return `${uid}:${container?.runAsGroup ?? pod?.runAsGroup ?? uid}`;
}

/** An env var's value: literal, the downward API's pod fields, or a stand-in for a secret. */
function envValue(entry: NonNullable<K8sContainer['env']>[number], pod: string): string {
  if (entry.value !== undefined) return entry.value;
  const field = entry.valueFrom?.fieldRef?.fieldPath;
  if (field === 'metadata.namespace') return 'default';
  if (field === 'metadata.name') return pod;
  const secret = entry.valueFrom?.secretKeyRef;
  return secret === undefined ? '' : `secret:${secret.name}/${secret.key}`;
}

/** A Pod, or a Job's pod template, as the emulator runs it; downward-API fields get fake values. */
export function podFromManifest(doc: {
  kind: string;
  metadata?: { name?: string };
  spec: Record<string, unknown>;
}): EmulatedPod {
  const spec = (doc.kind === 'Job' ? (doc.spec.template as { spec: unknown }).spec : doc.spec) as {
    initContainers?: K8sContainer[];
    containers: K8sContainer[];
    securityContext?: SecurityContext;
  };
  const name = doc.metadata?.name ?? 'pod';
  const convert = (c: K8sContainer): EmulatedContainer => ({
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    env: Object.fromEntries((c.env ?? []).map((e) => [e.name, envValue(e, name)])),
    mounts: Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name])),
    readinessProbe: probeOf(c),
    user: userOf(spec.securityContext, c.securityContext),
  });
  return {
    name,
    initContainers: (spec.initContainers ?? []).map(convert),
    containers: spec.containers.map(convert),
  };
}

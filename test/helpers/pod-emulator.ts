import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RootFs, runInContainer } from './chroot-container.ts';
import type { Finished } from './kubexit.ts';

/** An image as the emulator knows it: a root filesystem maker and the image's entrypoint and cmd. */
export interface EmulatedImage {
  readonly rootfs: () => RootFs;
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
}

export interface EmulatedContainer {
  readonly name: string;
  readonly image: string;
  /** Kubernetes `command` (replaces the entrypoint) and `args` (replaces cmd). */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** mount path → volume name */
  readonly mounts: Readonly<Record<string, string>>;
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
 * Runs a pod as the kubelet would, without a cluster: one network namespace for the pod (its
 * containers share localhost), an emptyDir per volume, init containers one after the other (a
 * failure stops the pod), then every container at once, each with its own PID and mount namespace
 * and its image's root filesystem. Needs root (see canEmulateContainers).
 */
export async function runPod(
  pod: EmulatedPod,
  images: Readonly<Record<string, EmulatedImage>>,
): Promise<PodResult> {
  const network = `kubexit-${pod.name}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  ip(['netns', 'add', network]);
  try {
    ip(['-n', network, 'link', 'set', 'lo', 'up']);
    const volumes = new Map<string, string>();
    const volumeDir = (name: string) => {
      if (!volumes.has(name)) {
        const dir = mkdtempSync(join(tmpdir(), `kubexit-volume-${name}-`));
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
      return runInContainer(image.rootfs(), command, {
        env: { ...container.env },
        volumes: mounts,
        network,
      });
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
    ip(['netns', 'delete', network]);
  }
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
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
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
  };
  const name = doc.metadata?.name ?? 'pod';
  const convert = (c: K8sContainer): EmulatedContainer => ({
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    env: Object.fromEntries(
      (c.env ?? []).map((e) => [
        e.name,
        e.value ?? (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? 'default' : name),
      ]),
    ),
    mounts: Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name])),
  });
  return {
    name,
    initContainers: (spec.initContainers ?? []).map(convert),
    containers: spec.containers.map(convert),
  };
}

interface ComposeService {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** A compose file: services others wait on with service_completed_successfully run first. */
export function podFromCompose(doc: { services: Record<string, ComposeService> }): EmulatedPod {
  const services = Object.entries(doc.services);
  const oneShot = new Set(
    services.flatMap(([, s]) =>
      Object.entries(s.depends_on ?? {})
        .filter(([, d]) => d.condition === 'service_completed_successfully')
        .map(([n]) => n),
    ),
  );
  const convert = ([name, s]: [string, ComposeService]): EmulatedContainer => ({
    name,
    image: s.image,
    args: s.command?.map((word) => word.replaceAll('$$', '$')),
    env: { ...s.environment },
    mounts: Object.fromEntries(
      (s.volumes ?? [])
        .map((v) => v.split(':'))
        .map(([volume, path]) => [path as string, volume as string]),
    ),
  });
  return {
    name: 'compose',
    initContainers: services.filter(([n]) => oneShot.has(n)).map(convert),
    containers: services.filter(([n]) => !oneShot.has(n)).map(convert),
  };
}

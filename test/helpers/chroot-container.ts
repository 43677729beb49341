import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Container } from './kubexit.ts';

/** Whether this machine lets us make PID and mount namespaces and chroot (root, usually). */
export const canEmulateContainers =
  spawnSync('unshare', ['--pid', '--fork', '--mount', '--kill-child', 'chroot', '/', 'true'])
    .status === 0;

/** A root filesystem under construction: files copied from the host, symlinks, empty dirs. */
export class RootFs {
  readonly dir = mkdtempSync(join(tmpdir(), 'kubexit-rootfs-'));

  copy(from: string, to: string): this {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    cpSync(from, join(this.dir, to), { recursive: true, dereference: true });
    return this;
  }

  link(target: string, at: string): this {
    mkdirSync(dirname(join(this.dir, at)), { recursive: true });
    symlinkSync(target, join(this.dir, at));
    return this;
  }

  /** A static busybox as /bin/sh and friends: a shell without any libc. */
  withBusybox(): this {
    this.copy('/bin/busybox', '/bin/busybox');
    for (const applet of ['sh', 'sleep', 'echo', 'cat', 'true', 'false', 'ls', 'test', 'touch'])
      this.link('busybox', `/bin/${applet}`);
    return this;
  }
}

/**
 * Runs a command as a container would: its own PID namespace (it is PID 1), its own mount
 * namespace with the pod's volumes bound in, and the root filesystem changed to `root`.
 */
export function runInContainer(
  root: RootFs,
  command: readonly string[],
  { env = {}, volumes = {} }: { env?: Record<string, string>; volumes?: Record<string, string> },
): Container {
  const binds = Object.entries(volumes).flatMap(([mountPath, hostDir]) => {
    mkdirSync(join(root.dir, mountPath), { recursive: true });
    return [hostDir, join(root.dir, mountPath)];
  });
  mkdirSync(join(root.dir, 'proc'), { recursive: true });
  // $1..$2n are pairs to bind; the rest is the command. No user input reaches this shell. /proc is
  // mounted as a container runtime does, showing the container's own PID namespace.
  const script = `n=${binds.length / 2}; while [ "$n" -gt 0 ]; do mount --bind "$1" "$2"; shift 2; n=$((n-1)); done; mount -t proc proc "$0/proc"; exec chroot "$0" "$@"`;
  const launcher = [
    'unshare',
    '--pid',
    '--fork',
    '--mount',
    '--kill-child',
    'sh',
    '-c',
    script,
    root.dir,
    ...binds,
  ];
  const path = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';
  return new Container(command, { ...env, PATH: path }, launcher, { raw: true });
}

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Container } from './kubexit.ts';
import { scratchDir } from './temp.ts';

/** Whether this machine lets us make PID and mount namespaces and chroot (root, usually). */
export const canEmulateContainers =
  spawnSync('unshare', ['--pid', '--fork', '--mount', '--kill-child', 'chroot', '/', 'true'])
    .status === 0;

/** A root filesystem under construction: files copied from the host, symlinks, empty dirs. */
export class RootFs {
  readonly dir: string;

  constructor() {
    this.dir = scratchDir('kubexit-rootfs-');
    // A root filesystem every user can walk (mkdtemp makes it 0700): containers may run as non-root.
    chmodSync(this.dir, 0o755);
  }

  copy(from: string, to: string): this {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    cpSync(from, join(this.dir, to), { recursive: true, dereference: true });
    return this;
  }

  /** A whole tree as it is, symlinks kept as they are (an image's root filesystem). */
  copyTree(from: string): this {
    cpSync(from, this.dir, { recursive: true, verbatimSymlinks: true });
    return this;
  }

  link(target: string, at: string): this {
    mkdirSync(dirname(join(this.dir, at)), { recursive: true });
    symlinkSync(target, join(this.dir, at));
    return this;
  }

  write(path: string, content: string, mode = 0o644): this {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), content, { mode });
    return this;
  }

  /**
   * A static busybox as /bin/sh and friends: a shell without any libc. With /etc/hosts and /tmp,
   * as the kubelet and the image would provide.
   */
  withBusybox(): this {
    this.copy('/bin/busybox', '/bin/busybox');
    const applets = [
      'sh',
      'sleep',
      'echo',
      'cat',
      'true',
      'false',
      'ls',
      'test',
      'touch',
      'mkdir',
      'wget',
      'httpd',
      'nc',
      'printf',
      'date',
      'head',
    ];
    for (const applet of applets) this.link('busybox', `/bin/${applet}`);
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    // Writable by every user, whatever the umask: containers may run as non-root.
    chmodSync(join(this.dir, 'tmp'), 0o1777);
    return this.write('/etc/hosts', '127.0.0.1 localhost\n::1 localhost\n');
  }
}

/**
 * Runs a command as a container would: its own PID namespace (it is PID 1), its own mount
 * namespace with the pod's volumes bound in, and the root filesystem changed to `root`.
 */
export function runInContainer(
  root: RootFs,
  command: readonly string[],
  {
    env = {},
    volumes = {},
    network,
    user,
  }: {
    env?: Record<string, string>;
    volumes?: Record<string, string>;
    network?: string;
    /** `uid:gid` to run the command as (a pod's runAsUser/runAsGroup); root by default. */
    user?: string;
  },
): Container {
  const binds = Object.entries(volumes).flatMap(([mountPath, hostDir]) => {
    mkdirSync(join(root.dir, mountPath), { recursive: true });
    return [hostDir, join(root.dir, mountPath)];
  });
  mkdirSync(join(root.dir, 'proc'), { recursive: true });
  // $1..$2n are pairs to bind; the rest is the command. No user input reaches this shell. /proc is
  // mounted as a container runtime does, showing the container's own PID namespace.
  const userspec = user === undefined ? '' : ` --userspec=${user}`;
  const script = `n=${binds.length / 2}; while [ "$n" -gt 0 ]; do mount --bind "$1" "$2"; shift 2; n=$((n-1)); done; mount -t proc proc "$0/proc"; exec chroot${userspec} "$0" "$@"`;
  const inNetwork = network === undefined ? [] : ['ip', 'netns', 'exec', network];
  const launcher = [
    ...inNetwork,
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

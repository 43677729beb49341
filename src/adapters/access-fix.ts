/**
 * The fix for a directory this process was refused (EACCES, EPERM): which uid runs, and how a
 * pod or a Docker container gives it the volume. Undefined for other errors. A Docker named
 * volume is root-owned 0755 unless the image has the mount point, so a non-root container meets
 * this in Compose where an emptyDir (0777) would have let it write.
 */
export function accessFix(dir: string, code: string): string | undefined {
  if (code !== 'EACCES' && code !== 'EPERM') return undefined;
  const uid = process.getuid?.() ?? 'this user';
  return `${dir} is not writable by uid ${uid}: give the volume to that user (a pod's securityContext.fsGroup) or run this container as root (runAsUser: 0; Compose: user: "0:0")`;
}

import { type Data, entryOf } from './data.ts';

/**
 * What a container without `command` runs: its image's ENTRYPOINT and CMD, given by a flag or read
 * from the image's registry. `cmd` undefined: not known (a flag gave the ENTRYPOINT alone).
 */
export interface ImageCommand {
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
}

/** A container whose image's ENTRYPOINT and CMD inject needs and has not been given. */
export interface ImageNeed {
  readonly image: string;
  /** The pod's platform, `os/arch` (an image index names one image per platform). */
  readonly platform: string;
  readonly container: string;
  readonly where: string;
}

/** The platform images are read for when a pod's nodeSelector names none. */
export const DEFAULT_PLATFORM = 'linux/amd64';

/** The key of an image's command as read for a platform. */
export function imageKey(image: string, platform: string): string {
  return `${image} ${platform}`;
}

/** The platform a pod runs on: its nodeSelector's kubernetes.io/os and /arch, or the default. */
export function platformOf(spec: Data, fallback = DEFAULT_PLATFORM): string {
  const [os, arch] = fallback.split('/');
  const selector = spec.nodeSelector;
  return `${entryOf(selector, 'kubernetes.io/os') ?? os}/${entryOf(selector, 'kubernetes.io/arch') ?? arch}`;
}

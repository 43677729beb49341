import { dockerConfigCredentials } from '../../adapters/registry/docker-credentials.ts';
import { defaultCacheDirectory, diskImageCache } from '../../adapters/registry/image-cache.ts';
import { readImageCommand } from '../../adapters/registry/registry-client.ts';
import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';
import { type ImageCommand, type ImageNeed, imageKey } from './images.ts';

/** Reads what an image runs on a platform (its registry, in kubexit itself). */
export type ImageLookUp = (image: string, platform: string) => Promise<ImageCommand>;

/** The time one image's lookup gets: token, manifests and config included. */
export const REGISTRY_TIMEOUT_MS = 20_000;
/** Lookups at once: a manifest with many images is read in parallel, but not all at once. */
const PARALLEL_LOOKUPS = 4;

/** Lookups from the images' registries, with the user's Docker credentials and a disk cache. */
export function registryLookUp(env: NodeJS.ProcessEnv): ImageLookUp {
  const credentials = dockerConfigCredentials(env);
  const cache = diskImageCache(defaultCacheDirectory(env));
  return (image, platform) =>
    readImageCommand(image, platform, { credentials, cache, timeoutMs: REGISTRY_TIMEOUT_MS });
}

/**
 * The commands of the images inject needs, each image read once. Any that can't be read make
 * one error that names each container, its image and why, and the flags that avoid the lookup.
 */
export async function lookUpImages(
  needs: ReadonlyArray<ImageNeed & { file: string }>,
  lookUp: ImageLookUp,
): Promise<Map<string, ImageCommand>> {
  const keys = [...new Set(needs.map((need) => imageKey(need.image, need.platform)))];
  const results = new Map<string, ImageCommand | Error>();
  let next = 0;
  const worker = async () => {
    for (let key = keys[next++]; key !== undefined; key = keys[next++]) {
      const need = needs.find((n) => imageKey(n.image, n.platform) === key) as ImageNeed;
      results.set(key, await lookUp(need.image, need.platform).catch((error: Error) => error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LOOKUPS, keys.length) }, worker));
  const failed = needs.filter(
    (need) => results.get(imageKey(need.image, need.platform)) instanceof Error,
  );
  if (failed.length > 0) throw lookUpError(failed, results);
  return results as Map<string, ImageCommand>;
}

function lookUpError(
  failed: ReadonlyArray<ImageNeed & { file: string }>,
  results: ReadonlyMap<string, ImageCommand | Error>,
): SupervisorError {
  const lines = failed.map((need) => {
    const error = results.get(imageKey(need.image, need.platform)) as Error;
    const file = need.file === '-' ? '' : `${need.file}: `;
    return `  ${file}${need.where}: container ${need.container} (image ${need.image}): ${error.message}`;
  });
  const [first] = failed;
  const name = first?.container ?? 'NAME';
  return new SupervisorError(
    `kubexit inject: what ${failed.length === 1 ? 'this image runs' : 'these images run'} could not be read from the registry:\n${lines.join('\n')}\ngive each container's ENTRYPOINT and CMD instead, --entrypoint '${name}=["/path/to/program", …]' --cmd '${name}=[…]', or --no-registry to never ask a registry`,
    EXIT_CODES.config,
  );
}

import { type Container, KUBEXIT, nameOf } from './data.ts';
import { type ImageCommand, imageKey, platformOf } from './images.ts';
import type { PodView } from './pod-view.ts';
import type { Path } from './text-editor.ts';
import { injectError } from './text-editor.ts';

/**
 * Prefixes a container's command with kubexit, once. A container without `command` gets its
 * image's ENTRYPOINT after kubexit and, when it has no args, its image's CMD as args: a
 * container's `command` replaces both ENTRYPOINT and CMD (the kubelet's semantics), so leaving CMD
 * out would run the program without the arguments its image gives it.
 */
export function wrapCommand(pod: PodView, container: Container, path: Path): void {
  const command = container.command;
  if (Array.isArray(command) && command.length > 0) {
    if (command[0] !== KUBEXIT) pod.editor.addItem([...path, 'command'], KUBEXIT, true);
    return;
  }
  const known = imageCommandOf(pod, container);
  if (known === undefined) return;
  const name = nameOf(container);
  const hasArgs = Array.isArray(container.args) && container.args.length > 0;
  if (!hasArgs && known.cmd === undefined)
    throw injectError(
      `${pod.where}: container ${name} has no args, so its image's CMD runs after the ENTRYPOINT, and a command drops it: give the CMD too, --cmd '${name}=["…"]' (--cmd '${name}=[]' when the image has none)`,
    );
  setList(pod, container, path, 'command', [KUBEXIT, ...known.entrypoint], ['image', 'name']);
  if (!hasArgs && (known.cmd ?? []).length > 0)
    setList(pod, container, path, 'args', known.cmd ?? [], ['command', 'image', 'name']);
}

/** A container's image command from the flags or the registry; undefined when it is looked up. */
function imageCommandOf(pod: PodView, container: Container): ImageCommand | undefined {
  const name = nameOf(container);
  const image = typeof container.image === 'string' ? container.image : undefined;
  const platform = platformOf(pod.template.spec, pod.options.platform);
  const known =
    pod.options.entrypoints.get(name) ??
    (image === undefined ? undefined : pod.options.images?.get(imageKey(image, platform)));
  if (known !== undefined) return known;
  const lookUp = pod.options.onImageNeeded;
  if (lookUp !== undefined && image !== undefined) {
    lookUp({ image, platform, container: name, where: pod.where });
    return undefined;
  }
  throw injectError(
    `${pod.where}: container ${name} has no command, so what its image runs is not known here: let inject read it from the registry (without --no-registry), or give it: --entrypoint '${name}=["/path/to/program", …]' --cmd '${name}=[…]' (the image's ENTRYPOINT and CMD)`,
  );
}

/** Sets a list the container has empty or not at all (`command: []` counts as not given). */
function setList(
  pod: PodView,
  container: Container,
  path: Path,
  key: string,
  words: readonly string[],
  after: readonly string[],
): void {
  if (Array.isArray(container[key]))
    for (const word of words) pod.editor.addItem([...path, key], word);
  else pod.editor.addKey(path, key, words, { after });
}

/**
 * An image reference as Kubernetes and Docker read it: `[host[:port]/]path[:tag][@digest]`.
 * No host means Docker Hub, whose one-word names are under `library/`; no tag and no digest
 * means `latest`.
 */
export interface ImageReference {
  /** The registry's host as written (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** Where the registry's API is: Docker Hub's is not at docker.io. */
  readonly apiHost: string;
  readonly repository: string;
  /** A tag, or a digest (`sha256:…`): what the manifest is asked for by. */
  readonly reference: string;
  readonly digest?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Parses an image reference; throws a TypeError naming what is wrong with it. */
export function parseImageReference(image: string): ImageReference {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new TypeError(`${image}: ${digest} is not a sha256 digest`);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const registry = hasHost ? first : 'docker.io';
  let path = hasHost ? rest.slice(slash + 1) : rest;
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw new TypeError(`${image}: ${tag} is not a valid tag`);
  }
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!PATH.test(path)) throw new TypeError(`${image}: ${path} is not a valid repository name`);
  return {
    registry,
    apiHost: registry === 'docker.io' ? 'registry-1.docker.io' : registry,
    repository: path,
    reference: digest ?? tag ?? 'latest',
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Hosts a registry is reached on over plain HTTP when HTTPS fails: this machine only. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

import { fileURLToPath } from 'node:url';

/** This machine's architecture as Node names it: dist/linux-<arch>/. */
export const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';
/** The same as container images name it: dist/image/<arch>/ and the Dockerfile's TARGETARCH. */
export const IMAGE_ARCH = ARCH === 'arm64' ? 'arm64' : 'amd64';
/** npm run build's tree of the container image: opt/kubexit/, bin/ and the empty kubexit/. */
export const IMAGE_TREE = fileURLToPath(
  new URL(`../../dist/image/${IMAGE_ARCH}/`, import.meta.url),
);

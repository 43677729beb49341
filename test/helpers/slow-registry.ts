import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry that serves any image (ENTRYPOINT /app, CMD serve) after `delayMs`: admissions that
 * wait on it stay in flight that long.
 */
export async function startSlowRegistry(
  delayMs: number,
): Promise<{ host: string; requests(): number; stop(): Promise<void> }> {
  const config = Buffer.from(JSON.stringify({ config: { Entrypoint: ['/app'], Cmd: ['serve'] } }));
  const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length },
    layers: [],
  });
  let manifests = 0;
  const server = createServer((request, response) => {
    const url = request.url ?? '';
    if (url.includes('/manifests/')) manifests++;
    setTimeout(
      () => {
        if (url.includes('/manifests/'))
          response
            .writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })
            .end(manifest);
        else if (url.endsWith(`/blobs/${digest}`)) response.writeHead(200).end(config);
        else response.writeHead(404).end();
      },
      url.includes('/manifests/') ? delayMs : 0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => manifests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

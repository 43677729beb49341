import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createSign, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

/**
 * A real container registry on this machine (Debian's docker-registry, the CNCF distribution
 * registry), images pushed to it over its HTTP API, and a token issuer of the test's own for its
 * Bearer authentication (what Docker Hub and ghcr.io use). Two registries may share one storage
 * directory: one open for pushing, one that asks for tokens.
 */
export const REGISTRY_PROGRAM = 'docker-registry';

/** Why the registry tests can't run here, or undefined when they can. */
export function registrySkip(): string | undefined {
  return spawnSync(REGISTRY_PROGRAM, ['--version']).error === undefined
    ? undefined
    : `${REGISTRY_PROGRAM} is not installed: apt-get install docker-registry (.ci/run does)`;
}

const TLS = fileURLToPath(new URL('./tls/', import.meta.url));

export interface RunningRegistry {
  readonly host: string;
  stop(): Promise<void>;
}

/** Starts a registry on a free loopback port; `auth` makes it ask for tokens from `realm`. */
export async function startRegistry(
  directory: string,
  storage: string,
  auth?: { realm: string },
): Promise<RunningRegistry> {
  const port = await freePort();
  const config = join(directory, `registry-${port}.yml`);
  const lines = [
    'version: 0.1',
    'log: { level: error }',
    `storage: { filesystem: { rootdirectory: ${storage} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${port}, secret: test-only }`,
  ];
  if (auth !== undefined)
    lines.push(
      `auth: { token: { realm: "${auth.realm}", service: test-registry, issuer: test-issuer, rootcertbundle: ${join(TLS, 'localhost.crt')} } }`,
    );
  writeFileSync(config, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(REGISTRY_PROGRAM, ['serve', config], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`http://${host}/v2/`).catch(() => undefined))?.status,
    `the registry at ${host}`,
  );
  return {
    host,
    stop: async () => {
      child.kill('SIGTERM');
      await waitFor(
        () => child.exitCode !== null || child.signalCode !== null,
        'the registry to stop',
      );
    },
  };
}

/** Pushes an image whose config has this ENTRYPOINT and CMD; its manifest's digest. */
export async function pushImage(
  host: string,
  repository: string,
  tag: string | undefined,
  command: { entrypoint?: string[] | null; cmd?: string[] | null; architecture?: string },
): Promise<{ digest: string; size: number }> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: command.architecture ?? 'amd64',
      os: 'linux',
      config: { Entrypoint: command.entrypoint ?? null, Cmd: command.cmd ?? null },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const layer = Buffer.from(`layer of ${repository} ${command.architecture ?? 'amd64'}`);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: await pushBlob(host, repository, config, 'application/vnd.oci.image.config.v1+json'),
      layers: [await pushBlob(host, repository, layer, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  );
  return putManifest(host, repository, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
}

/** Pushes an image index of images already pushed, one per platform. */
export async function pushIndex(
  host: string,
  repository: string,
  tag: string,
  images: ReadonlyArray<{ digest: string; size: number; architecture: string }>,
): Promise<{ digest: string; size: number }> {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: images.map((image) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.digest,
        size: image.size,
        platform: { os: 'linux', architecture: image.architecture },
      })),
    }),
  );
  return putManifest(host, repository, tag, index, 'application/vnd.oci.image.index.v1+json');
}

async function pushBlob(host: string, repository: string, body: Buffer, mediaType: string) {
  const digest = digestOf(body);
  const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload of ${repository}: HTTP ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`blob of ${repository}: HTTP ${put.status}`);
  return { mediaType, digest, size: body.length };
}

async function putManifest(
  host: string,
  repository: string,
  tag: string | undefined,
  body: Buffer,
  mediaType: string,
): Promise<{ digest: string; size: number }> {
  const digest = digestOf(body);
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${tag ?? digest}`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': mediaType },
  });
  if (response.status !== 201)
    throw new Error(`manifest of ${repository}: HTTP ${response.status} ${await response.text()}`);
  return { digest, size: body.length };
}

function digestOf(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

export interface TokenIssuer {
  readonly realm: string;
  /** Token requests seen: the scope asked, and the user (undefined: anonymous). */
  readonly requests: Array<{ scope: string | null; user: string | undefined }>;
  stop(): Promise<void>;
}

/**
 * Issues registry tokens as Docker Hub's auth service does: anonymous pulls of `public/…`, pulls
 * of anything for `user` with `password`; wrong credentials are refused (401). Tokens are JWTs
 * signed with the test certificate's key, the certificate in their `x5c` header.
 */
export async function startTokenIssuer(user: string, password: string): Promise<TokenIssuer> {
  const key = createPrivateKey(readFileSync(join(TLS, 'localhost.key')));
  const certificate = new X509Certificate(readFileSync(join(TLS, 'localhost.crt')));
  const requests: TokenIssuer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://issuer');
    const scope = url.searchParams.get('scope');
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const [name, secret] =
      basic === undefined ? [] : Buffer.from(basic, 'base64').toString().split(':');
    requests.push({ scope, user: name });
    if (name !== undefined && (name !== user || secret !== password)) {
      response.writeHead(401).end('{"details":"incorrect username or password"}');
      return;
    }
    const repository = /^repository:([^:]+):/.exec(scope ?? '')?.[1] ?? '';
    const allowed = name !== undefined || repository.startsWith('public/');
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'test-issuer',
      sub: name ?? '',
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: `${now}-${requests.length}`,
      access: allowed ? [{ type: 'repository', name: repository, actions: ['pull'] }] : [],
    };
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certificate.raw.toString('base64')] };
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signed = `${part(header)}.${part(claims)}`;
    const signature = createSign('RSA-SHA256').update(signed).sign(key).toString('base64url');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ token: `${signed}.${signature}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

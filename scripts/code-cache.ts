/*
 * Warm V8 code caches for the single executable's scripts.
 *
 * Node's own `useCodeCache` caches a script as compiled before it ever ran: only its top level.
 * Every function is then compiled at its first call, in every container, on the way to starting
 * the command — about 3 ms of each start-up (measured: `kubexit -- true` 1.44 × `node -e 0` with
 * Node's cache, 1.30 × with a warm one). A cache made after the code has run holds every function
 * the run compiled. So the build runs kubexit through two lives — a container that nothing
 * depends on and that depends on nothing, and a sidecar with birth and death dependencies — in
 * the Node that goes into the executable and with the executable's V8 flags (V8 refuses a cache
 * made under other flags), and keeps the cache of each script each life loaded as a SEA asset.
 * Two caches, because V8 reads a whole cache at start: the sidecar's holds the watching and
 * waiting code, which a container without dependencies would load for nothing (~1 ms).
 *
 * At run time a script whose cache V8 refuses is compiled as usual: slower, never wrong.
 * `KUBEXIT_DEBUG_CODE_CACHE=1` prints whether each cache was taken; the build checks it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The parameters every script is wrapped in, as Node wraps a CommonJS module. */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {';

/** A bundled CommonJS script as the function V8 compiles (the same text at training and run). */
export function wrapScript(source: string): string {
  return `${WRAPPER_HEAD}${source}\n})`;
}

/** The lives the build trains: what a container does decides which cache it loads. */
export const LIVES = ['plain', 'sidecar'] as const;
export type Life = (typeof LIVES)[number];

/** Which life a starting container lives, as JavaScript (the same test as the loader's). */
const LIFE_EXPRESSION =
  "(process.env.KUBEXIT_BIRTH_DEPS || process.env.KUBEXIT_DEATH_DEPS ? 'sidecar' : 'plain')";

/** The name of the asset, or file, that holds the code cache of `name` for `life`. */
export function cacheAsset(name: string, life: Life): string {
  return `${name}.${life}.v8cache`;
}

/**
 * JavaScript that loads asset `name` (a wrapped script) with its code cache when the executable
 * has one (the scripts are bundled before the caches exist) and sets `module.exports` to what it
 * exports. `requireExpression` is what the script gets as `require`. The cache is read in place
 * (getRawAsset), not copied into the heap; the source is decoded by Buffer (getAsset's decoding
 * loads TextDecoder, which costs start-up time).
 */
export function loaderSource(name: string, requireExpression: string): string {
  const asset = JSON.stringify(name);
  const caches = JSON.stringify(
    Object.fromEntries(LIVES.map((life) => [life, cacheAsset(name, life)])),
  );
  return `
const sea = require('node:sea');
const life = ${LIFE_EXPRESSION};
let cachedData;
try { cachedData = new Uint8Array(sea.getRawAsset(${caches}[life])); } catch {}
const source = Buffer.from(sea.getRawAsset(${asset})).toString('utf8');
const script = new (require('node:vm').Script)(source, { filename: ${asset}, cachedData });
if (process.env.KUBEXIT_DEBUG_CODE_CACHE === '1') process.stderr.write('code cache ' + ${asset} + ' (' + life + '): ' + (cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted') + '\\n');
const loaded = { exports: {} };
script.runInThisContext()(loaded.exports, ${requireExpression}, loaded, process.execPath, require('node:path').dirname(process.execPath));
module.exports = loaded.exports;
`;
}

/**
 * Runs the wrapped scripts in `assets` (name → file) through each life, in `node` with
 * `v8Flags`, and returns the code caches written (asset name → file) for every script a life
 * loaded. Any failure stops the build: a missing cache would silently cost every container.
 */
export function trainCodeCaches(
  node: string,
  v8Flags: readonly string[],
  main: string,
  assets: Readonly<Record<string, string>>,
): Record<string, string> {
  const trainer = fileURLToPath(new URL('code-cache-trainer.ts', import.meta.url));
  const manifest = `${assets[main]}.manifest.json`;
  writeFileSync(manifest, JSON.stringify({ main, assets }));
  const caches: Record<string, string> = {};
  for (const life of LIVES) {
    for (const file of Object.values(assets)) rmSync(cacheAsset(file, life), { force: true });
    const result = spawnSync(node, [...v8Flags, trainer, manifest, life], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status !== 0)
      throw new Error(
        `training the code cache (${life}) failed (exit ${result.status ?? result.signal}): ${result.stderr}`,
      );
    for (const [name, file] of Object.entries(assets))
      if (existsSync(cacheAsset(file, life)))
        caches[cacheAsset(name, life)] = cacheAsset(file, life);
    if (caches[cacheAsset(main, life)] === undefined)
      throw new Error(`training the code cache (${life}) wrote none for ${main}: ${result.stderr}`);
  }
  return caches;
}

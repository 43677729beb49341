/*
 * Making a Node single executable, the one way the build and the benchmark's floor executables
 * are made: a SEA blob written by the host's Node, injected into a stripped copy of the target's
 * node binary.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { inject } from 'postject';

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * V8 flags of the executable: a small young generation and one V8 worker thread (a supervisor
 * allocates little and has nothing to do in parallel). The code caches are made under them too:
 * V8 refuses a cache made under flags that change its flags' hash (`--expose-gc` does: it cost
 * every start ~5 ms, Node's own modules' caches refused; see src/adapters/v8-heap.ts).
 */
export const V8_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'] as const;

export interface SingleExecutable {
  /** The node binary that writes the blob: the host's. */
  readonly hostNode: string;
  /** The node binary the executable is made of: the target architecture's. */
  readonly targetNode: string;
  /** `strip` for the target architecture. */
  readonly strip: string;
  /** The entry script, and the assets it reads (name → file). */
  readonly main: string;
  readonly assets?: Readonly<Record<string, string>>;
  /** Node's own code cache for the entry script (host architecture only). */
  readonly useCodeCache: boolean;
  /** Where the blob and its config are written (`<work>.blob`, `<work>.json`). */
  readonly work: string;
  readonly output: string;
}

export async function makeSingleExecutable(sea: SingleExecutable): Promise<void> {
  const blob = `${sea.work}.blob`;
  const config = `${sea.work}.json`;
  writeFileSync(
    config,
    JSON.stringify({
      main: sea.main,
      output: blob,
      assets: sea.assets ?? {},
      disableExperimentalSEAWarning: true,
      // The container's NODE_OPTIONS is the application's, not ours: `--require` would inject its
      // hooks into the supervisor, `--inspect` take its port, `--max-old-space-size=1` kill kubexit
      // before it writes a tombstone. The supervised command still gets it (process.env is
      // untouched); only this executable ignores it.
      execArgvExtension: 'none',
      execArgv: [...V8_FLAGS],
      useCodeCache: sea.useCodeCache,
    }),
  );
  // Node's own code cache for the entry script is made in this process: under the executable's
  // V8 flags too, or the executable refuses it (with a warning on every start).
  execFileSync(sea.hostNode, [...V8_FLAGS, '--experimental-sea-config', config], {
    stdio: 'ignore',
  });
  copyFileSync(sea.targetNode, sea.output);
  chmodSync(sea.output, 0o755);
  // strip warns about Node's custom note sections; they are kept and harmless. Stripping must
  // come first: afterwards it would cut the injected blob out.
  execFileSync(sea.strip, ['--strip-all', sea.output], { stdio: 'ignore' });
  // postject's ELF reader warns about the same note sections, a dozen lines on every build that
  // succeeds: those are dropped, anything else it says goes through.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    /Can't find string offset for section name/.test(String(chunk))
      ? true
      : write(chunk, ...rest)) as typeof process.stderr.write;
  try {
    await inject(sea.output, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  } finally {
    process.stderr.write = write;
  }
}

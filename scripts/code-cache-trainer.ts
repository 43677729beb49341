/*
 * Runs kubexit once through one life so that V8 compiles what such a container runs, then
 * writes each loaded script's code cache next to it (see code-cache.ts, which starts this in the
 * executable's own Node with its V8 flags).
 *
 *   node <v8 flags> scripts/code-cache-trainer.ts <manifest.json> plain|sidecar
 *
 * plain: a container without dependencies runs `true`. sidecar: a birth dependency that is
 * already ready, a death dependency that is alive, a command that would run for a minute; once
 * the trainee's tombstone says it was born, the death dependency dies, so the trainee stops its
 * command and records its end. Both log at info level. The scripts run
 * exactly as in the executable: the same wrapped text, loaded through the same loader code,
 * with `node:sea` answered from the files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { cacheAsset, LIVES, type Life, loaderSource } from './code-cache.ts';

interface Manifest {
  readonly main: string;
  readonly assets: Readonly<Record<string, string>>;
}

const manifest = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Manifest;
const life = process.argv[3] as Life;
if (!LIVES.includes(life)) throw new Error(`unknown life ${process.argv[3]}`);
const fileOf = (name: string): string => {
  const file = manifest.assets[name];
  if (file === undefined) throw new Error(`no asset ${name}`);
  return file;
};

const scripts = new Map<string, vm.Script>();
class RecordingScript extends vm.Script {
  constructor(code: string, options: vm.ScriptOptions) {
    super(code, options);
    if (options.filename !== undefined) scripts.set(options.filename, this);
  }
}
const sea = {
  isSea: () => true,
  getAsset: (name: string, encoding?: BufferEncoding) =>
    encoding === undefined
      ? new Uint8Array(readFileSync(fileOf(name))).buffer
      : readFileSync(fileOf(name), encoding),
  getRawAsset: (name: string) => new Uint8Array(readFileSync(fileOf(name))).buffer,
};
const nodeRequire = createRequire(import.meta.url);
const seaRequire = (id: string): unknown => {
  if (id === 'node:sea') return sea;
  if (id === 'node:vm') return { ...vm, Script: RecordingScript };
  return nodeRequire(id);
};

const graveyard = mkdtempSync(join(tmpdir(), 'kubexit-train-'));
const tombstone = (name: string, fields: string) =>
  writeFileSync(join(graveyard, name), fields, { mode: 0o644 });
const now = () => JSON.stringify(new Date().toISOString());
delete process.env.KUBEXIT_BIRTH_DEPS;
delete process.env.KUBEXIT_DEATH_DEPS;
Object.assign(process.env, {
  KUBEXIT_NAME: 'trainee',
  KUBEXIT_GRAVEYARD: graveyard,
  KUBEXIT_LOG_LEVEL: 'info',
});
if (life === 'plain') {
  process.argv = [process.execPath, process.execPath, '--', 'true'];
} else {
  tombstone('db', `Born: ${now()}\n`);
  tombstone('main', `Born: ${now()}\n`);
  Object.assign(process.env, { KUBEXIT_BIRTH_DEPS: 'db', KUBEXIT_DEATH_DEPS: 'main' });
  process.argv = [process.execPath, process.execPath, '--', 'sleep', '60'];
  const killMain = setInterval(() => {
    const own = join(graveyard, 'trainee');
    if (!existsSync(own) || !readFileSync(own, 'utf8').includes('Born')) return;
    clearInterval(killMain);
    tombstone('main', `Born: ${now()}\nDied: ${now()}\nExitCode: 0\n`);
  }, 20);
}

process.on('exit', (code) => {
  const own = join(graveyard, 'trainee');
  const record = existsSync(own) ? readFileSync(own, 'utf8') : '';
  rmSync(graveyard, { recursive: true, force: true });
  if (!record.includes('Died')) {
    process.stderr.write(`the trainee did not live its life (exit ${code}): ${record}\n`);
    process.exitCode = 1;
    return;
  }
  for (const [name, script] of scripts)
    writeFileSync(cacheAsset(fileOf(name), life), script.createCachedData());
  process.exitCode = 0;
});

new Function('require', 'module', loaderSource(manifest.main, 'require'))(seaRequire, {
  exports: {},
});

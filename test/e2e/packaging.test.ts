import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const BIN = fileURLToPath(new URL('../../bin/kubexit.js', import.meta.url));

/** A Node older than 24 on this machine (Debian's), if there is one. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    const major = Number(/^v(\d+)\./.exec(version ?? '')?.[1]);
    if (major > 0 && major < 24) return candidate;
  }
  return undefined;
}
const older = olderNode();

t.test(
  'kubexit from the sources on an older Node says what to do, exit 2, no stack',
  { skip: older === undefined ? 'no Node older than 24 on this machine' : false },
  async (t) => {
    const result = spawnSync(older as string, [BIN, '--version'], { encoding: 'utf8' });
    t.equal(result.status, 2);
    t.match(result.stderr, /running from the sources needs Node 24 or later \(this is Node \d+/);
    t.match(result.stderr, /npx kubexit/);
    t.notMatch(result.stderr, /at |SyntaxError|ERR_/, 'no stack, no raw error');
  },
);

t.test(
  'the package is private: npm never publishes TypeScript sources Node cannot run',
  async (t) => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    t.equal(pkg.private, true);
  },
);

t.test('package.json, the image label and LICENSE name the same license', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
  const license = readFileSync(new URL('../../LICENSE', import.meta.url), 'utf8');
  t.equal(pkg.license, 'Apache-2.0');
  t.match(license, /Apache License\s+Version 2\.0, January 2004/);
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  t.match(dockerfile, /org\.opencontainers\.image\.licenses="Apache-2\.0"/);
});

t.test(
  'a build tool that is missing is named, with the package that has it; no stack',
  async (t) => {
    const { symlinkSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { scratchDir } = await import('../helpers/temp.ts');
    // A PATH with Node and nothing else: no C compiler, no strip.
    const bin = scratchDir('kubexit-path-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const script = fileURLToPath(new URL('../../scripts/build.ts', import.meta.url));
    const result = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: bin },
    });
    t.equal(result.status, 1);
    t.match(
      result.stderr,
      /^build: (musl-gcc|aarch64-linux-gnu-gcc) and strip not found, needed for linux\/\w+: on Debian or Ubuntu, apt-get install \S+.* binutils/,
    );
    t.notMatch(result.stderr, /\n\s+at /, 'no stack');
  },
);

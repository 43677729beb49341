import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { lockedIntegrity, verifyIntegrity } from '../../scripts/integrity.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

t.test("the other architecture's Node is checked against the lockfile", async (t) => {
  for (const arch of ['x64', 'arm64']) {
    t.match(lockedIntegrity(ROOT, `node-linux-${arch}`), /^sha512-[A-Za-z0-9+/]+=*$/, arch);
  }
  const dir = t.testdir();
  const file = join(dir, 'node.tgz');
  writeFileSync(file, 'the tarball');
  const good = `sha512-${createHash('sha512').update('the tarball').digest('base64')}`;
  t.doesNotThrow(() => verifyIntegrity(file, good));
  writeFileSync(file, 'a tarball someone swapped');
  t.throws(
    () => verifyIntegrity(file, good),
    /does not match package-lock\.json.*refusing to build/,
  );
  t.throws(() => verifyIntegrity(file, 'sha1-abc'), /unsupported integrity/);
  t.throws(() => lockedIntegrity(ROOT, 'no-such-package'), /has no integrity for no-such-package/);
});

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The lockfile's integrity of a package (`sha512-…`): what npm verified when it installed it, and
 * what a tarball of the same package fetched another way must match.
 */
export function lockedIntegrity(root: string, name: string): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { integrity?: string }>;
  };
  const integrity = lock.packages?.[`node_modules/${name}`]?.integrity;
  if (integrity === undefined)
    throw new Error(`package-lock.json has no integrity for ${name}: run npm install`);
  return integrity;
}

/** Throws unless `file`'s SHA-512 is the one `integrity` (`sha512-<base64>`) names. */
export function verifyIntegrity(file: string, integrity: string): void {
  const [algorithm, expected] = integrity.split('-', 2);
  if (algorithm !== 'sha512' || expected === undefined)
    throw new Error(`unsupported integrity ${integrity}: expected sha512-…`);
  const actual = createHash('sha512').update(readFileSync(file)).digest('base64');
  if (actual !== expected)
    throw new Error(
      `${file} does not match package-lock.json (sha512-${actual}, expected ${integrity}): refusing to build with it`,
    );
}

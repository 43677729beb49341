import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from './helpers.ts';

export interface SizeRow {
  readonly label: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function measure(label: string, paths: readonly string[]): SizeRow {
  const bytes = paths.reduce((sum, path) => sum + statSync(path).size, 0);
  const gzipBytes = paths.reduce(
    (sum, path) => sum + gzipSync(readFileSync(path), { level: 9 }).length,
    0,
  );
  return { label, bytes, gzipBytes };
}

/** The native front, Node, and the portable bundle (front + Node + loader + libraries). */
export function measureSize(): SizeRow[] {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  return [
    measure('native front (dist/kubexit)', [join(ROOT, 'dist', 'kubexit')]),
    measure('Node with kubexit inside (dist/lib/kubexit-node)', [
      join(ROOT, 'dist', 'lib', 'kubexit-node'),
    ]),
    measure(
      `portable bundle (linux-${arch})`,
      files(join(ROOT, 'dist', `linux-${arch}`, 'kubexit')),
    ),
  ];
}

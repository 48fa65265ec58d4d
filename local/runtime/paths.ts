import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The repository's root: the nearest folder above this module whose package.json is attachment-vault's. Found by
 * walking up, so it is the same whether this code runs from its TypeScript source or bundled into dist/.
 */
export function projectRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'attachment-vault') return (root = dir);
    if (dirname(dir) === dir) throw new Error('attachment-vault: cannot find the project root (package.json) above the local runtime');
  }
}

/** A file of the repository, by its path from the root (e.g. `statemachine/attachment-vault.asl.json`). */
export function projectFile(path: string): string {
  return join(projectRoot(), path);
}

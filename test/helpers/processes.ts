import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { root } from './paths.js';


function newestMtime(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    }),
  );
}

/** Child processes run the built package: refuse to test a missing dist/, or one older than src/. */
export function assertBuilt(): void {
  const built = path.join(root, 'dist/index.js');
  if (!existsSync(built)) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  if (statSync(built).mtimeMs < newestMtime(path.join(root, 'src'))) {
    throw new Error('dist/ is older than src/: run `npm run build` first (`npm test` does)');
  }
}

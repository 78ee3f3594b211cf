import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The built package as an app that installed it with nothing else gets it: dist/ and package.json
// copied to a temporary directory whose node_modules links the runtime dependencies only. The
// optional peers (and every devDependency) cannot be found from there.

const root = packageRoot();

/** The nearest directory above this file holding our package.json: this file also runs compiled, from bench/.build/test/helpers. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'aicommerce-webhooks') return dir;
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) throw new Error(`no aicommerce-webhooks package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

export interface PackageCopy {
  readonly dir: string;
  dispose(): void;
}

export function copyBuiltPackage(prefix: string): PackageCopy {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'node_modules'));
    const { dependencies = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const name of Object.keys(dependencies)) {
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir'); // npm hoists them there
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return { dir, dispose };
}

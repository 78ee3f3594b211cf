import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The built package as an app without `@opentelemetry/api` gets it: dist/ and package.json copied
// to a temporary directory whose node_modules holds zod only (here the API is a devDependency, so
// the package itself can always find it).

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface PackageCopy {
  /** The copy's dist/index.js. */
  readonly entry: string;
  dispose(): void;
}

export function copyWithoutOpenTelemetry(): PackageCopy {
  const dir = mkdtempSync(join(tmpdir(), 'aicommerce-webhooks-no-otel-'));
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(dirname(createRequire(join(root, 'package.json')).resolve('zod/package.json')), join(dir, 'node_modules', 'zod'), 'dir');
    if (resolves(join(dir, 'dist', 'telemetry', 'api.js'), '@opentelemetry/api')) {
      throw new Error(`@opentelemetry/api is still resolvable from ${dir}: the copy would not be without it`);
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return { entry: join(dir, 'dist', 'index.js'), dispose };
}

function resolves(from: string, name: string): boolean {
  try {
    createRequire(from).resolve(name);
    return true;
  } catch {
    return false;
  }
}

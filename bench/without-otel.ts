import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The built package as a user without `@opentelemetry/api` gets it: dist/ and package.json copied
// to a temporary directory whose node_modules holds zod only, loaded into this same process, so
// the bench can time it beside the package installed here (where the API is a devDependency).

type Package = typeof import('aicommerce-webhooks');

const root = fileURLToPath(new URL('..', import.meta.url));

export async function packageWithoutOpenTelemetry(): Promise<{ readonly pkg: Package; readonly dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'aicommerce-webhooks-no-otel-'));
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules'));
  const zod = dirname(createRequire(join(root, 'package.json')).resolve('zod/package.json'));
  symlinkSync(zod, join(dir, 'node_modules', 'zod'), 'dir');
  const entry = join(dir, 'dist', 'index.js');
  let resolvable = true;
  try {
    createRequire(join(dir, 'dist', 'telemetry', 'api.js')).resolve('@opentelemetry/api');
  } catch {
    resolvable = false;
  }
  if (resolvable) throw new Error(`@opentelemetry/api is still resolvable from ${dir}: the comparison would be void`);
  const pkg = (await import(pathToFileURL(entry).href)) as Package;
  return { pkg, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

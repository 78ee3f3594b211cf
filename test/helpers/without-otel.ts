import { createRequire } from 'node:module';
import { join } from 'node:path';
import { copyBuiltPackage } from './package-copy.js';

// The built package as an app without `@opentelemetry/api` gets it (here the API is a
// devDependency, so the package itself can always find it).

export interface PackageWithoutOpenTelemetry {
  /** The copy's dist/index.js. */
  readonly entry: string;
  dispose(): void;
}

export function copyWithoutOpenTelemetry(): PackageWithoutOpenTelemetry {
  const { dir, dispose } = copyBuiltPackage('aicommerce-webhooks-no-otel-');
  if (resolves(join(dir, 'dist', 'telemetry', 'api.js'), '@opentelemetry/api')) {
    dispose();
    throw new Error(`@opentelemetry/api is still resolvable from ${dir}: the copy would not be without it`);
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

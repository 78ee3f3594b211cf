import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

// `@opentelemetry/api` is an optional peer: loaded synchronously with require() (no top-level
// await, so the package stays require()-able from CommonJS), once, the first time a receiver is
// made. Absent, or failing to load, it is simply not used.

export type OpenTelemetryApi = typeof Api;

/** The instrumentation scope: this package, by name and version. */
export interface Scope {
  readonly name: string;
  readonly version: string | undefined;
}

let api: OpenTelemetryApi | null | undefined;
let scope: Scope | undefined;

export function openTelemetryApi(): OpenTelemetryApi | undefined {
  if (api === undefined) {
    try {
      // Inside the try: bundled for a Worker, import.meta.url may be undefined and OpenTelemetry is just off.
      api = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi;
    } catch {
      api = null;
    }
  }
  return api ?? undefined;
}

/** This package's name and version, from its package.json (two levels up from src/telemetry and dist/telemetry alike). */
export function instrumentationScope(): Scope {
  if (scope === undefined) {
    let version: unknown;
    try {
      version = (createRequire(import.meta.url)('../../package.json') as { version?: unknown }).version;
    } catch {
      version = undefined; // bundled without its package.json: the scope goes without a version
    }
    scope = { name: 'aicommerce-webhooks', version: typeof version === 'string' ? version : undefined };
  }
  return scope;
}

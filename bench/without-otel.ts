import { pathToFileURL } from 'node:url';
import { copyWithoutOpenTelemetry } from '../test/helpers/without-otel.js';

// The built package loaded into this process from a copy that cannot find `@opentelemetry/api`,
// so that the bench times it beside the package as installed here (where the API is present).

type Package = typeof import('aicommerce-webhooks');

export async function packageWithoutOpenTelemetry(): Promise<{ readonly pkg: Package; readonly dispose: () => void }> {
  const copy = copyWithoutOpenTelemetry();
  try {
    return { pkg: (await import(pathToFileURL(copy.entry).href)) as Package, dispose: copy.dispose };
  } catch (error) {
    copy.dispose();
    throw error;
  }
}

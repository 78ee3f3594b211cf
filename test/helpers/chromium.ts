import { existsSync } from 'node:fs';
import { describe } from 'vitest';

// Debian's Chromium, driven by playwright-core, for the tests that need a real browser (the docs
// site, the inspector page). Where it is missing the tests say so loudly and skip, as the Redis ones
// do, except in CI (or with REQUIRE_CHROMIUM=1), where a missing browser is a failure.

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(chromiumPath);
const required = ['1', 'true'].includes((process.env['CI'] ?? '').toLowerCase()) || process.env['REQUIRE_CHROMIUM'] === '1';

if (!chromiumAvailable) {
  if (required) throw new Error(`${chromiumPath} not found: install Debian's chromium (apt-get install -y chromium; .ci/run does)`);
  console.warn(`\n${'#'.repeat(78)}\n#  BROWSER TESTS SKIPPED: no Chromium at ${chromiumPath} (apt-get install -y chromium).\n${'#'.repeat(78)}\n`);
}

/** A describe that runs only where Chromium is. */
export const describeChromium = describe.skipIf(!chromiumAvailable);

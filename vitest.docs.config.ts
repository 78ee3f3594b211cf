import { defineConfig } from 'vitest/config';

// The docs project: the site's samples compiled and run, and the built site driven in Chromium.
// Apart from the main suites so that they stay fast; it imports the built package (no aliases to
// src/), as the samples' readers do. `npm test` runs it after the main suites.
export default defineConfig({
  test: {
    name: 'docs',
    include: ['test/docs/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // The site build and Chromium take both cores: one file at a time.
    fileParallelism: false,
  },
});

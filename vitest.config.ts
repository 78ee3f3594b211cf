import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

/** A project of the tests under test/<name>/, with the root's aliases and timeouts. */
const kind = (name: string): TestProjectInlineConfiguration => ({ extends: true, test: { name, include: [`test/${name}/**/*.test.ts`] } });

export default defineConfig({
  resolve: {
    // Tests import the package by its public names, as users do; coverage maps onto src/.
    alias: [
      { find: /^aicommerce-webhooks$/, replacement: src('index.ts') },
      { find: /^aicommerce-webhooks\/testing$/, replacement: src('testing/index.ts') },
      { find: /^aicommerce-webhooks\/redis$/, replacement: src('stores/redis.ts') },
      { find: /^aicommerce-webhooks\/bullmq$/, replacement: src('queue/bullmq.ts') },
      { find: /^aicommerce-webhooks\/fastify$/, replacement: src('http/fastify.ts') },
      { find: /^aicommerce-webhooks\/koa$/, replacement: src('http/koa.ts') },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // By kind: unit (no server, no process, no Redis: `npm run test:unit`), integration (HTTP servers,
    // Redis, BullMQ, processes, the CLI, the examples), runtimes (Bun, Deno, workerd). `npm test` runs all,
    // then the docs project (the site in Chromium: vitest.docs.config.ts).
    projects: [kind('unit'), kind('integration'), kind('runtimes')],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 95, branches: 90 },
    },
  },
});

import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

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
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/docs/**'], // the docs project: vitest.docs.config.ts
    testTimeout: 20_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 95, branches: 90 },
    },
  },
});

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';

// The app under test, built the way your server builds it.
interface Catalog {
  add(productId: string): void | Promise<void>;
}

function createApp({ secret, catalog, log }: { secret: string; catalog: Catalog; log: (line: string) => void }) {
  const webhooks = createWebhookReceiver({ secret });
  webhooks.on('product.added', (event) => catalog.add(event.data.product.id));
  webhooks.onError((error) => log(`webhook ${error.status} ${error.code}`));
  return express().use('/webhooks/aicommerce', webhooks.middleware());
}

const secret = 'test-secret';

describe('the product.added webhook', () => {
  it('adds the product', async () => {
    const added: string[] = [];
    const app = createApp({ secret, catalog: { add: (id) => void added.push(id) }, log: () => {} });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });

    const res = await request(app).post('/webhooks/aicommerce').set(headers).send(body);

    expect(res.status).toBe(200);
    expect(added).toEqual(['prod_new']);
  });

  it('rejects a forged delivery without touching the catalogue', async () => {
    const added: string[] = [];
    const log: string[] = [];
    const app = createApp({ secret, catalog: { add: (id) => void added.push(id) }, log: (line) => log.push(line) });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret: 'forged' });

    const res = await request(app).post('/webhooks/aicommerce').set(headers).send(body);

    expect(res.status).toBe(401);
    expect(added).toEqual([]);
    expect(log).toEqual(['webhook 401 invalid_signature']);
  });

  it('adds the product once when the first attempt fails and AICommerce retries', async () => {
    const added: string[] = [];
    let databaseDown = true;
    const catalog: Catalog = {
      add(id) {
        if (databaseDown) {
          databaseDown = false;
          throw new Error('database unavailable');
        }
        added.push(id);
      },
    };
    const server = createApp({ secret, catalog, log: () => {} }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/aicommerce`;

    const aicommerce = createTestSender({ baseDelayMs: 10 }); // a local AICommerce with quick retries
    await aicommerce.webhooks.create({ url, events: ['product.added'], secret });
    const [report] = await aicommerce.send('product.added', sampleEvents['product.added']);
    server.close();

    expect(report?.attempts.map((attempt) => attempt.status)).toEqual([500, 200]);
    expect(added).toEqual(['prod_new']);
  });
});

// Not part of the README: this file must hold the README's "Testing your own handlers" block
// verbatim (everything above this comment), so the snippet users copy is the one that runs.
it('is the README snippet, verbatim', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const snippet = /## Testing your own handlers[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const self = readFileSync(new URL(import.meta.url), 'utf8');
  expect(snippet).toBeDefined();
  expect(self.startsWith(snippet!)).toBe(true);
});

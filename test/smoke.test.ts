import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { frameworkNames, frameworks, WEBHOOK_PATH } from './helpers/frameworks.js';

describe.each(frameworkNames)('%s', (name) => {
  it('delivers a signed event', async () => {
    const webhooks = createWebhookReceiver({ secret: 's' });
    const seen: unknown[] = [];
    webhooks.on('chat.message.received', (event) => void seen.push(event.data));
    const { body, headers } = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: 's' });
    const res = await request(frameworks[name](webhooks.middleware())).post(WEBHOOK_PATH).set(headers).send(body);
    expect(res.status).toBe(200);
    expect(seen).toEqual([sampleEvents['chat.message.received']]);
  });
});

import type { z } from 'zod';
import type { EventName, EventSchemas } from '../events.js';

/** The `data` of each event as a sender would write it. */
export type EventData<Name extends EventName> = z.input<EventSchemas[Name]>;

/** One valid `data` payload per event; `chat.message.received` is the AICommerce docs' own example. */
export const sampleEvents: { readonly [Name in EventName]: EventData<Name> } = {
  'chat.session.created': {
    sessionId: 'sess_abc123',
    storeId: 'store_xyz',
    customerId: 'cust_42',
    source: 'widget',
    context: { page: '/collections/running' },
  },
  'chat.message.received': {
    sessionId: 'sess_abc123',
    storeId: 'store_xyz',
    message: 'Looking for running shoes',
    products: [{ id: 'prod_xyz', name: 'Nike Air Max', relevanceScore: 0.95 }],
  },
  'chat.message.sent': {
    sessionId: 'sess_abc123',
    storeId: 'store_xyz',
    message: 'These Nike Air Max are light and well cushioned.',
    products: [{ id: 'prod_xyz', name: 'Nike Air Max', relevanceScore: 0.95 }],
    messageId: 'msg_002',
    inReplyTo: 'msg_001',
  },
  'product.viewed': {
    sessionId: 'sess_abc123',
    storeId: 'store_xyz',
    product: { id: 'prod_xyz', name: 'Nike Air Max', relevanceScore: 0.95 },
    position: 0,
  },
  'product.added': {
    storeId: 'store_xyz',
    product: { id: 'prod_new', name: 'Trail Runner 2', price: 129.99, currency: 'USD', url: 'https://shop.example/p/trail-runner-2' },
  },
  'product.updated': {
    storeId: 'store_xyz',
    product: { id: 'prod_xyz', name: 'Nike Air Max', price: 99.5, currency: 'USD' },
    changedFields: ['price'],
  },
  'analytics.daily': {
    storeId: 'store_xyz',
    date: '2026-11-26',
    sessions: 1204,
    messages: 5310,
    productViews: 2210,
    conversions: 87,
    revenue: 10432.5,
    currency: 'USD',
    topProducts: [{ id: 'prod_xyz', name: 'Nike Air Max', views: 310 }],
    topQueries: ['running shoes', 'waterproof jacket'],
  },
};

export { createDelivery } from './delivery.js';
export type { Delivery, DeliveryOptions } from './delivery.js';
export { sampleEvents } from './samples.js';
export type { EventData } from './samples.js';
export { createTestSender } from './sender.js';
export type { Attempt, DeliveryReport, SendOptions, TestSender, TestSenderOptions, WebhookEndpoint } from './sender.js';

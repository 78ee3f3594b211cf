// What the bench servers share with the parent, without loading any signer (a server process
// should hold only the code it runs, so its memory figures are its own).

export const SECRET = 'whsec_bench_0123456789abcdef';
export const EVENT = 'chat.message.received';
/** An ordered event (latest wins): its deliveries carry a snapshot of one product. */
export const PRODUCT_EVENT = 'product.updated';
export const WEBHOOK_PATH = '/webhooks';

import { createWebhookReceiver, signPayload, WebhookError, type ReceiverOptions, type WebhookReceiver } from 'aicommerce-webhooks';
import { SECRET } from './deliveries.js';
import { startServer, transports, type Transport } from './hostile-server.js';

// One delivery, sent the way each kind of user sends it: over real HTTP to the node middleware
// (in every framework) or the Fetch handler, or through receive() with no HTTP at all.

export type Target = Transport | 'receive()';
export const targets: readonly Target[] = [...transports, 'receive()'];

export interface Opened {
  /** Sends `body` signed with the test secret (or with `signature`); resolves with the status answered. */
  send(body: string, signature?: string): Promise<number>;
  /** The server's URL (not for receive()). */
  readonly url: string | undefined;
  close(): Promise<void>;
}

export async function open(target: Target, options: ReceiverOptions = {}, setup: (webhooks: WebhookReceiver) => void = () => {}): Promise<Opened> {
  if (target === 'receive()') {
    const webhooks = createWebhookReceiver({ secret: SECRET, ...options });
    webhooks.onAny(() => {});
    webhooks.onError(() => {});
    setup(webhooks);
    return {
      url: undefined,
      send: (body, signature = signPayload(body, SECRET)) =>
        webhooks.receive({ body, signature }).then(
          () => 200,
          (error: unknown) => (error instanceof WebhookError ? error.status : Promise.reject(error)),
        ),
      close: async () => {},
    };
  }
  const server = await startServer(target, options, setup);
  return {
    url: server.url,
    send: async (body, signature = signPayload(body, SECRET)) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
        body,
      });
      await response.arrayBuffer();
      return response.status;
    },
    close: () => server.close(),
  };
}

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload, type ReceiverOptions } from 'aicommerce-webhooks';
import { SECRET } from '../helpers/deliveries.js';
import { anyJson, mutatedEnvelope } from '../helpers/hostile-arbitraries.js';
import { expectAgreement, expectedOutcome, passesItsSchema, type Answer } from '../helpers/hostile-oracle.js';
import { startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Property: a correctly signed body, sent over real HTTP to every framework's middleware and the
// Fetch handler, is answered 200 or 4xx as the oracle (test/helpers/hostile-oracle.ts) says, never
// 5xx, and handlers only see valid data. receive() alone: test/unit/property-payload.test.ts.

const NOW = new Date('2026-11-26T12:00:00.000Z');
const options: ReceiverOptions = { secret: SECRET, now: () => NOW };

describe('over HTTP, every framework and the Fetch handler: correctly signed hostile bodies', () => {
  const servers = new Map<Transport, HostileServer>();
  beforeAll(async () => {
    for (const name of transports) servers.set(name, await startServer(name, options));
  });
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
  });
  const transport = fc.constantFrom(...transports);

  async function post(server: HostileServer, body: Uint8Array | string): Promise<Answer> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, SECRET) },
      body,
    });
    const answer = (await response.json()) as { code?: string; received?: boolean; duplicate?: boolean; ignored?: boolean };
    const code = answer.code ?? (answer.duplicate ? 'duplicate' : answer.ignored ? 'ignored' : 'handled');
    return { status: response.status, code };
  }

  it('mutated event-like objects → the answer the schemas give', async () => {
    const bodies = new Map<Transport, Set<string>>(transports.map((t) => [t, new Set()]));
    await fc.assert(
      fc.asyncProperty(transport, mutatedEnvelope(NOW), async (name, { json }) => {
        const server = servers.get(name)!;
        const body = JSON.stringify(json);
        expectAgreement(await post(server, body), expectedOutcome(json, NOW), bodies.get(name)!.has(body));
        bodies.get(name)!.add(body);
      }),
      { numRuns: 300 },
    );
    for (const server of servers.values()) expect(server.handled.filter((e) => !passesItsSchema(e))).toEqual([]);
  });

  it('arbitrary JSON and arbitrary bytes → 200 or 400, never 5xx', async () => {
    const body = fc.oneof(anyJson.map((j) => JSON.stringify(j)), fc.uint8Array({ maxLength: 200 }));
    await fc.assert(
      fc.asyncProperty(transport, body, async (name, bytes) => {
        const { status } = await post(servers.get(name)!, bytes);
        expect([200, 400]).toContain(status);
      }),
      { numRuns: 300 },
    );
    for (const server of servers.values()) expect(server.handled.filter((e) => !passesItsSchema(e))).toEqual([]);
  });
});

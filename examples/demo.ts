/**
 * `npm run demo`: a local AICommerce (the sender emulator) sends every kind of delivery to the
 * example Express server, on the in-memory defaults, and a table shows what became of each.
 * Exits 0 when every outcome is the expected one, 1 otherwise.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { EventName, ReceiverOptions, WebhookEvent } from 'aicommerce-webhooks';
import { createDelivery, createTestSender, sampleEvents, type DeliveryReport, type TestSender } from 'aicommerce-webhooks/testing';
import { startExpressServer } from './express-server.js';

export interface DemoOptions extends ReceiverOptions {
  write?: (text: string) => void;
}

interface Case {
  label: string;
  event: EventName;
  /** The status of every attempt, the final answer (`received`, `duplicate` or the error code), the data handlers got. */
  expected: { statuses: readonly number[]; answer: string; saw: readonly unknown[] };
  send(): Promise<DeliveryReport>;
}

interface Row {
  ok: boolean;
  cells: readonly string[];
}

const RETRIES = 3; // AICommerce's policy: 1 attempt + 3 retries
const EVENTS = Object.keys(sampleEvents) as EventName[];

export async function runDemo({ write = (text: string) => void process.stdout.write(text), ...receiverOptions }: DemoOptions = {}): Promise<number> {
  const startedAt = performance.now();
  const secret = randomBytes(24).toString('base64url');
  const server = await startExpressServer({ port: 0, secret, log: () => {}, ...receiverOptions });
  try {
    const seen: WebhookEvent[] = [];
    server.webhooks.onAny((event) => void seen.push(event));
    const database = { down: false }; // when set, the store's database is down for one delivery
    server.webhooks.on('product.updated', () => {
      if (database.down) {
        database.down = false;
        throw new Error('database unavailable');
      }
    });

    const aicommerce = createTestSender({ retries: RETRIES, baseDelayMs: 25 });
    await aicommerce.webhooks.create({ url: server.url, events: EVENTS, secret });
    const rows: Row[] = [];
    for (const deliveryCase of casesFor(aicommerce, server.url, secret, database)) {
      rows.push(await run(deliveryCase, seen)); // one at a time, so what the handlers saw belongs to this delivery
    }

    const passed = rows.filter((row) => row.ok).length;
    write(`A local AICommerce sent ${rows.length} deliveries to the example Express server at ${server.url}\n\n`);
    write(table(['case', 'event', 'attempts', 'answer', 'the handler saw'], rows));
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    write(`\n${passed}/${rows.length} outcomes as expected (${seconds} s)${passed === rows.length ? '' : ': see the rows marked ✗'}\n`);
    return passed === rows.length ? 0 : 1;
  } finally {
    await server.close();
  }
}

/** One valid delivery of each event, then every kind of delivery a receiver must turn away or take once. */
function casesFor(aicommerce: TestSender, url: string, secret: string, database: { down: boolean }): Case[] {
  const rejected = (status: number): number[] => Array<number>(RETRIES + 1).fill(status);
  const message = sampleEvents['chat.message.received'];
  const priceCut = { ...sampleEvents['product.updated'], product: { ...sampleEvents['product.updated'].product, price: 89 } };
  // Made when it is sent, so it is the newest snapshot of its product (latest wins would skip an older one).
  let flaky: ReturnType<typeof createDelivery> | undefined;
  const tampered = createDelivery('product.added', sampleEvents['product.added'], { secret });
  return [
    ...EVENTS.map((event) => ({
      label: 'valid',
      event,
      expected: { statuses: [200], answer: 'received', saw: [sampleEvents[event]] },
      send: async () => (await aicommerce.send(event, sampleEvents[event]))[0]!,
    })),
    {
      label: 'forged (wrong secret)',
      event: 'chat.message.received',
      expected: { statuses: rejected(401), answer: 'invalid_signature', saw: [] },
      send: () => aicommerce.deliver(url, createDelivery('chat.message.received', message, { secret: 'guessed' })),
    },
    {
      label: 'tampered (1 byte)',
      event: 'product.added',
      expected: { statuses: rejected(401), answer: 'invalid_signature', saw: [] },
      send: () => aicommerce.deliver(url, { ...tampered, body: tampered.body.replace('129.99', '119.99') }),
    },
    {
      label: 'stale (10 min old)',
      event: 'chat.message.received',
      expected: { statuses: rejected(401), answer: 'stale_timestamp', saw: [] },
      send: () => aicommerce.deliver(url, createDelivery('chat.message.received', message, { secret, timestamp: new Date(Date.now() - 600_000) })),
    },
    {
      label: 'handler fails once',
      event: 'product.updated',
      expected: { statuses: [500, 200], answer: 'received', saw: [priceCut, priceCut] },
      send: () => {
        database.down = true;
        flaky = createDelivery('product.updated', priceCut, { secret });
        return aicommerce.deliver(url, flaky);
      },
    },
    {
      label: 'duplicate of the above',
      event: 'product.updated',
      expected: { statuses: [200], answer: 'duplicate', saw: [] },
      send: () => aicommerce.deliver(url, flaky!),
    },
    {
      label: 'older snapshot, late',
      event: 'product.updated',
      expected: { statuses: [200], answer: 'superseded', saw: [] },
      // A retry that arrives after a newer price was applied: latest wins, the old price is not put back.
      send: () => aicommerce.deliver(url, createDelivery('product.updated', sampleEvents['product.updated'], { secret, timestamp: new Date(Date.now() - 60_000) })),
    },
  ];
}

/** Sends one case and compares what happened with what should have. */
async function run({ label, event, expected, send }: Case, seen: readonly WebhookEvent[]): Promise<Row> {
  const before = seen.length;
  const report = await send();
  const saw = seen.slice(before);
  const statuses = report.attempts.map((attempt) => attempt.status);
  const answer = answerOf(report);
  const ok =
    isDeepStrictEqual(statuses, expected.statuses) &&
    answer === expected.answer &&
    isDeepStrictEqual(saw.map((e) => e.data), expected.saw);
  return { ok, cells: [label, event, attemptsOf(statuses), `${statuses.at(-1) ?? 'none'} ${answer}`, sawOf(saw, statuses, answer)] };
}

/** `received`/`duplicate`/`superseded` for a 2xx, the error code otherwise, or why there was no answer. */
function answerOf(report: DeliveryReport): string {
  const last = report.attempts.at(-1);
  const body = last?.response as { code?: string; duplicate?: boolean; ignored?: boolean; superseded?: boolean } | undefined;
  if (last?.status === null) return last.error ?? 'no answer';
  if (body?.duplicate) return 'duplicate';
  if (body?.superseded) return 'superseded';
  if (body?.ignored) return 'ignored';
  return body?.code ?? 'received';
}

/** `200`, `500 → 200`, or `401 ×4`. */
function attemptsOf(statuses: readonly (number | null)[]): string {
  const shown = statuses.map((status) => String(status ?? 'none'));
  return shown.length > 1 && shown.every((s) => s === shown[0]) ? `${shown[0]} ×${shown.length}` : shown.join(' → ');
}

function sawOf(saw: readonly WebhookEvent[], statuses: readonly (number | null)[], answer: string): string {
  if (saw.length === 0 && answer === 'superseded') return 'nothing (a newer one was applied)';
  if (saw.length === 0) return statuses.at(-1) === 200 ? 'nothing (already processed)' : 'nothing';
  const last = describe(saw.at(-1)!);
  return saw.length === 1 ? last : `${saw.length} runs: ${last}`;
}

/** One line on an event's data; the switch narrows `event.data` to each event's type. */
function describe(event: WebhookEvent): string {
  switch (event.event) {
    case 'chat.session.created':
      return `session ${event.data.sessionId} of ${event.data.customerId ?? 'a visitor'}`;
    case 'chat.message.received':
    case 'chat.message.sent':
      return `"${event.data.message}" with ${plural(event.data.products?.length ?? 0, 'product')}`;
    case 'product.viewed':
      return `${event.data.product.name} at position ${event.data.position ?? '?'}`;
    case 'product.added':
    case 'product.updated':
      return `${event.data.product.name} at ${event.data.product.price ?? '?'} ${event.data.product.currency ?? ''}`.trim();
    case 'analytics.daily':
      return `${event.data.date}: ${event.data.sessions} sessions, ${event.data.messages} messages`;
  }
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

function table(headings: readonly string[], rows: readonly Row[]): string {
  const lines = [{ mark: ' ', cells: headings }, ...rows.map((row) => ({ mark: row.ok ? '✓' : '✗', cells: row.cells }))];
  const widths = headings.map((_, i) => Math.max(...lines.map((line) => line.cells[i]!.length)));
  return lines.map(({ mark, cells }) => `${mark}  ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await runDemo();
}

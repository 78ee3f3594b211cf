import { createHmac } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createWebhookReceiver, MemoryDedupeStore, signPayload, verifyWebhookSignature } from 'aicommerce-webhooks';
import { timePerOp, type TimedOp, type TimingOptions } from './measure.js';
import { distinctProductDeliveries, EVENT, MIB, paddedBody, PRODUCT_EVENT, SECRET, signedHeaders, smallBody, STANDARD_SECRET, stripe } from './payload.js';
import { markdownTable, micros, ratio } from './table.js';
import { packageWithoutOpenTelemetry } from './without-otel.js';

export interface MicroResult {
  readonly table: string;
  /** Nanoseconds per operation, by contender name. */
  readonly ns: ReadonlyMap<string, number>;
}

export const FLOOR = 'floor: createHmac().digest() + JSON.parse';
export const OURS = 'aicommerce-webhooks receive()';
/** The same, from a copy of the built package that cannot find `@opentelemetry/api` (OURS can: no SDK is registered). */
export const OURS_WITHOUT_OTEL = 'aicommerce-webhooks receive(), no @opentelemetry/api';
/** The same receiver with an inspector mounted: every delivery is recorded (issue 18). */
export const OURS_INSPECTED = 'aicommerce-webhooks receive(), inspector mounted';
/** An ordered event through receive(), latest wins on (its marks in memory: dedupe off) and off (issue 15). */
export const OURS_ORDERED = 'aicommerce-webhooks receive(), product.updated, latest wins';
export const OURS_UNORDERED = 'aicommerce-webhooks receive(), product.updated, order: false';

/** Products the ordered contenders cycle through: each delivery is applied (a repeat has an equal timestamp, which is applied). */
const PRODUCTS = 1_024;

/** One ~1 KB delivery through each library's own verify-and-parse, against the floor. */
export async function perDelivery(timing: TimingOptions): Promise<MicroResult> {
  const body = smallBody();
  const headers = signedHeaders(body);
  const bytes = Buffer.byteLength(body);

  let ourRuns = 0;
  const receiver = createWebhookReceiver({ secret: SECRET, dedupe: false });
  receiver.on(EVENT, () => void ourRuns++);
  let inspectedRuns = 0;
  const inspected = createWebhookReceiver({ secret: SECRET, dedupe: false });
  inspected.on(EVENT, () => void inspectedRuns++);
  const inspector = inspected.inspector(); // records from here on; never served in the bench
  const ordered = productContender(OURS_ORDERED, {});
  const unordered = productContender(OURS_UNORDERED, { order: false });
  const withoutOtel = await packageWithoutOpenTelemetry();
  let withoutOtelRuns = 0;
  const receiverWithoutOtel = withoutOtel.pkg.createWebhookReceiver({ secret: SECRET, dedupe: false });
  receiverWithoutOtel.on(EVENT, () => void withoutOtelRuns++);
  let octokitRuns = 0;
  const octokit = new Webhooks({ secret: SECRET });
  octokit.onAny(() => void octokitRuns++);
  const standard = new StandardWebhook(STANDARD_SECRET);
  const octokitEvent = { id: headers['x-github-delivery']!, name: EVENT, payload: body, signature: headers['x-hub-signature-256']! };

  const ops: TimedOp[] = [
    { name: FLOOR, run: () => (createHmac('sha256', SECRET).update(body).digest(), JSON.parse(body)) },
    { name: OURS, run: () => receiver.receive({ body, signature: headers['x-webhook-signature'] }) },
    { name: OURS_WITHOUT_OTEL, run: () => receiverWithoutOtel.receive({ body, signature: headers['x-webhook-signature'] }) },
    { name: OURS_INSPECTED, run: () => inspected.receive({ body, signature: headers['x-webhook-signature'] }) },
    ordered.op,
    unordered.op,
    // @octokit/webhooks' types name GitHub events only; the bench sends its own event name.
    { name: '@octokit/webhooks verifyAndReceive()', run: () => octokit.verifyAndReceive(octokitEvent as never) },
    { name: 'stripe webhooks.constructEvent()', run: () => stripe.webhooks.constructEvent(body, headers['stripe-signature']!, SECRET) },
    { name: 'standardwebhooks verify() (parses JSON)', run: () => standard.verify(body, headers) },
  ];
  let ns;
  try {
    await sanityCheck(ops, () => ourRuns === 1 && withoutOtelRuns === 1 && inspectedRuns === 1 && octokitRuns === 1 && ordered.runs() === 1 && unordered.runs() === 1);
    ns = await timePerOp(ops, timing);
    for (const contender of [ordered, unordered]) contender.assertAllApplied();
  } finally {
    withoutOtel.dispose();
    inspector.close();
  }
  const floor = ns.get(FLOOR)!;
  const apart = new Set([OURS_WITHOUT_OTEL, OURS_INSPECTED, OURS_ORDERED, OURS_UNORDERED]);
  const rows = ops.filter((op) => !apart.has(op.name)).map((op) => [op.name, micros(ns.get(op.name)!), ratio(ns.get(op.name)! / floor)]);
  const otelCost = ns.get(OURS)! / ns.get(OURS_WITHOUT_OTEL)!;
  const otelTable = markdownTable(
    ['receive()', 'time per delivery', '× without the API'],
    [
      [OURS_WITHOUT_OTEL, micros(ns.get(OURS_WITHOUT_OTEL)!), ratio(1)],
      ['aicommerce-webhooks receive(), @opentelemetry/api installed, no SDK', micros(ns.get(OURS)!), ratio(otelCost)],
    ],
  );
  const inspectorTable = markdownTable(
    ['receive()', 'time per delivery', '× not mounted'],
    [
      [OURS, micros(ns.get(OURS)!), ratio(1)],
      [OURS_INSPECTED, micros(ns.get(OURS_INSPECTED)!), ratio(ns.get(OURS_INSPECTED)! / ns.get(OURS)!)],
    ],
  );
  const orderTable = markdownTable(
    ['receive()', 'time per delivery', '× order: false'],
    [
      [OURS_UNORDERED, micros(ns.get(OURS_UNORDERED)!), ratio(1)],
      [OURS_ORDERED, micros(ns.get(OURS_ORDERED)!), ratio(ns.get(OURS_ORDERED)! / ns.get(OURS_UNORDERED)!)],
    ],
  );
  return {
    table:
      `Per delivery (${bytes}-byte \`${EVENT}\`, 8 products; ours with dedupe off and a no-op handler):\n\n${markdownTable(['contender', 'time per delivery', '× floor'], rows)}` +
      `\n\nWhat OpenTelemetry costs when no SDK is registered (the same run):\n\n${otelTable}` +
      `\n\nWhat a mounted inspector costs, recording every delivery (the same run):\n\n${inspectorTable}` +
      `\n\nWhat latest wins costs an ordered event (\`${PRODUCT_EVENT}\` of ${PRODUCTS.toLocaleString('en')} products in turn, every delivery applied; ` +
      `dedupe off, so the marks are in memory; a no-op handler; the same run):\n\n${orderTable}`,
    ns,
  };
}

/**
 * A receiver of `product.updated` timed on PRODUCTS products' snapshots in turn: with latest wins
 * each is held, applied and its mark raised (a repeat's equal timestamp is applied again), never superseded.
 */
function productContender(name: string, options: { order?: false }) {
  const next = distinctProductDeliveries();
  const pool = Array.from({ length: PRODUCTS }, () => {
    const { body, headers } = next();
    return { body, signature: headers['x-webhook-signature']! };
  });
  const receiver = createWebhookReceiver({ secret: SECRET, dedupe: false, ...options });
  let runs = 0;
  let calls = 0;
  receiver.on(PRODUCT_EVENT, () => void runs++);
  const op: TimedOp = { name, run: () => receiver.receive(pool[calls++ % PRODUCTS]!) };
  return {
    op,
    runs: () => runs,
    /** Every call ran the handler: nothing was superseded or refused while it was timed. */
    assertAllApplied(): void {
      if (runs !== calls) throw new Error(`${name}: ${calls} deliveries, ${runs} handler runs (superseded or refused ones would be timed as cheap)`);
    },
  };
}

/** Every contender must succeed once before it is timed: a failing path must never be what gets measured. */
async function sanityCheck(ops: readonly TimedOp[], handlersRan: () => boolean): Promise<void> {
  for (const op of ops) {
    const result = await op.run();
    if (result === undefined && !op.name.includes('octokit')) throw new Error(`${op.name} returned nothing`);
  }
  if (!handlersRan()) throw new Error('a handler did not run exactly once in the sanity check');
}

export const BARE_HMAC = 'bare createHmac().update(body).digest()';
export const OUR_VERIFY = 'aicommerce-webhooks verifyWebhookSignature()';

/** Verifying a 1 MiB body: our whole verification against the HMAC alone. */
export async function largeVerification(timing: TimingOptions): Promise<MicroResult> {
  const body = Buffer.from(paddedBody(MIB));
  const signature = signPayload(body, SECRET);
  if (!verifyWebhookSignature(body, signature, SECRET)) throw new Error('the 1 MiB signature does not verify');
  const ops: TimedOp[] = [
    { name: BARE_HMAC, run: () => createHmac('sha256', SECRET).update(body).digest() },
    { name: OUR_VERIFY, run: () => verifyWebhookSignature(body, signature, SECRET) },
  ];
  const ns = await timePerOp(ops, timing);
  const bare = ns.get(BARE_HMAC)!;
  const rows = ops.map((op) => [op.name, micros(ns.get(op.name)!), ratio(ns.get(op.name)! / bare)]);
  return { table: `Verifying a 1 MiB body (Buffer):\n\n${markdownTable(['contender', 'time', '× bare HMAC'], rows)}`, ns };
}

export const STORE_NEW = 'latest wins in memory: the first update of a new entity';
export const STORE_OLDEST = 'latest wins in memory: an update of the entity updated longest ago';

/**
 * The default store at 100,000 entities (its default maxEntries), where each update moves an entry
 * from the old end: the same cost as appending a new one, if nothing walks the Map's old end anew on
 * each write (V8 keeps a deleted entry's slot there until it rehashes).
 */
export async function storeAtScale(timing: TimingOptions): Promise<MicroResult> {
  const store = new MemoryDedupeStore({ maxEntries: 1_000_000 });
  const update = (key: string): void => {
    const held = store.hold(key, 1);
    if (held.status !== 'held') throw new Error(`expected held, got ${held.status}`);
    void held.applied(600_000);
  };
  const SIZE = 100_000;
  for (let i = 0; i < SIZE; i++) update(`old/${i}`);
  let fresh = 0;
  let oldest = 0;
  const ops: TimedOp[] = [
    { name: STORE_NEW, run: () => update(`new/${fresh++}`) },
    { name: STORE_OLDEST, run: () => update(`old/${oldest++ % SIZE}`) },
  ];
  const ns = await timePerOp(ops, timing);
  const rows = ops.map((op) => [op.name, micros(ns.get(op.name)!), ratio(ns.get(op.name)! / ns.get(STORE_NEW)!)]);
  return { table: `The in-memory store at ${SIZE.toLocaleString('en')} entities:\n\n${markdownTable(['operation', 'time', '× a new entity'], rows)}`, ns };
}

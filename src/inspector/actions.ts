import { randomBytes } from 'node:crypto';
import { WebhookError } from '../errors.js';
import type { IncomingHeaders } from '../request.js';
import { signPayload } from '../signature.js';
import { sampleEvents } from '../testing/samples.js';
import { envelopeOf } from './explain.js';
import type { Entry, Recorder } from './recorder.js';
import type { InspectorSource } from './source.js';

// What the page's buttons do. Every delivery they make goes through the receiver's own receive(),
// so it is verified, deduplicated, handled and recorded like any other, and carries the header
// below, which says what made it (the list shows it; handlers can see it in context.headers).

export const ACTION_HEADER = 'x-inspector-action';

export const WRONG_KINDS = ['forged', 'tampered', 'stale', 'invalid'] as const;
export type WrongKind = (typeof WRONG_KINDS)[number];

/** Events the inspector has a sample of: the built-in ones the receiver still has a schema for. */
export const sampleNames = (source: InspectorSource): string[] => Object.keys(sampleEvents).filter((name) => source.eventNames.includes(name));

/** What an action's request is answered with. */
export interface ActionResult {
  readonly status: number;
  readonly outcome: string;
  readonly code?: string;
  /** The recorded delivery it made, for the page to open. */
  readonly seq?: number;
}

/** Headers that described the original request's transfer, not the delivery: a replay has its own. */
const TRANSFER_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'upgrade', 'expect', 'x-webhook-signature', ACTION_HEADER]);

export class Actions {
  readonly #source: InspectorSource;
  readonly #recorder: Recorder;
  #ref = 0;

  constructor(source: InspectorSource, recorder: Recorder) {
    this.#source = source;
    this.#recorder = recorder;
  }

  /** The delivery again, as a fresh one: a new timestamp (so a new id), signed with the receiver's secret. */
  async replay(entry: Entry): Promise<ActionResult> {
    const envelope = replayable(entry);
    if (typeof envelope === 'string') throw new ActionError(409, envelope);
    const body = JSON.stringify({ ...envelope, timestamp: this.#iso(0) });
    const headers: Record<string, string | readonly string[]> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(entry.record.headers)) {
      if (value !== undefined && !TRANSFER_HEADERS.has(name.toLowerCase())) headers[name] = value;
    }
    return this.#send(`replay of #${entry.seq}`, body, headers, entry.record.url);
  }

  /** A signed sample of `event`, from sampleEvents. */
  async sample(event: string): Promise<ActionResult> {
    return this.#send('sample', this.#sampleBody(event), {}, undefined);
  }

  /** A sample of `event` made to fail one check. */
  async wrong(kind: WrongKind, event: string): Promise<ActionResult> {
    switch (kind) {
      case 'forged': {
        const body = this.#sampleBody(event);
        return this.#send(kind, body, {}, undefined, signPayload(body, randomBytes(24).toString('hex')));
      }
      case 'tampered': {
        const signed = this.#sampleBody(event);
        const envelope = JSON.parse(signed) as { data: Record<string, unknown> };
        // The body AICommerce signed, with one field changed on the way.
        const body = JSON.stringify({ ...envelope, data: { ...envelope.data, storeId: 'store_tampered' } });
        return this.#send(kind, body, {}, undefined, await this.#sign(signed));
      }
      case 'stale': {
        const tolerance = this.#source.toleranceMs;
        if (tolerance === undefined) throw new ActionError(409, 'The tolerance is off (tolerance: false): every timestamp is accepted, so nothing is stale.');
        return this.#send(kind, this.#sampleBody(event, this.#iso(-2 * tolerance)), {}, undefined);
      }
      case 'invalid': {
        const { storeId: _, ...data } = this.#sample(event) as Record<string, unknown>;
        return this.#send(kind, JSON.stringify({ event, timestamp: this.#iso(0), data }), {}, undefined);
      }
    }
  }

  #sample(event: string): unknown {
    if (!sampleNames(this.#source).includes(event)) throw new ActionError(404, `No sample of ${JSON.stringify(event)}: samples exist for ${sampleNames(this.#source).join(', ')}.`);
    return sampleEvents[event as keyof typeof sampleEvents];
  }

  #sampleBody(event: string, timestamp = this.#iso(0)): string {
    return JSON.stringify({ event, timestamp, data: this.#sample(event) });
  }

  /** The receiver's now, moved by `offsetMs`, as ISO 8601. */
  #iso(offsetMs: number): string {
    return new Date(this.#source.now() + offsetMs).toISOString();
  }

  #sign(body: string, headers: IncomingHeaders = {}, url?: string): Promise<string> {
    return this.#source.sign(body, { headers, url }).catch((error: unknown) => {
      throw new ActionError(409, `The receiver's secret could not sign it: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  async #send(
    kind: string,
    body: string,
    base: Record<string, string | readonly string[]>,
    url: string | undefined,
    signature?: string,
  ): Promise<ActionResult> {
    const mark = `${kind}; ref=${++this.#ref}`;
    const unsigned = { 'content-type': 'application/json', ...base, [ACTION_HEADER]: mark };
    const signed = signature ?? (await this.#sign(body, unsigned, url));
    const headers = { ...unsigned, 'x-webhook-signature': signed };
    let answered: { status: number; outcome: string; code?: string };
    try {
      const result = (await this.#source.receive({ body, signature: signed, headers, url })) as { outcome: string };
      answered = { status: result.outcome === 'queued' ? 202 : 200, outcome: result.outcome };
    } catch (error) {
      if (!(error instanceof WebhookError)) throw error;
      answered = { status: error.status, outcome: error.status >= 500 ? 'failed' : 'rejected', code: error.code };
    }
    const entry = this.#recorder.list().find((e) => e.record.headers[ACTION_HEADER] === mark);
    return entry === undefined ? answered : { ...answered, status: entry.record.status, outcome: entry.record.outcome, seq: entry.seq };
  }
}

/** An action the page asked for that cannot be done, with the reason for the page. */
export class ActionError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Envelope = { event: string; [field: string]: unknown };

/** The envelope to replay (or save as a fixture), or why the delivery cannot be. */
export function replayable(entry: Entry, what = 'replayed'): Envelope | string {
  if (entry.body === undefined) return `Its body was never read (it was refused before that), so it cannot be ${what}.`;
  if (entry.truncatedFrom !== undefined) return `Only the start of its body was kept (it is larger than maxBodyBytes), so it cannot be ${what}.`;
  const envelope = envelopeOf(entry.record);
  if (envelope === undefined || typeof envelope.event !== 'string') return `Its body is not a JSON object with an event name, so it cannot be ${what}.`;
  return envelope as Envelope;
}

export interface Fixture {
  readonly fileName: string;
  /** The delivery's JSON body (without the ignored `signature` field), pretty-printed. */
  readonly json: string;
  /** A vitest test that sends it through a receiver with createDelivery. */
  readonly snippet: string;
}

/** The delivery as a fixture for createDelivery/createTestSender tests, or why it cannot be one. */
export function fixtureOf(entry: Entry): Fixture | string {
  const envelope = replayable(entry, 'saved as a fixture');
  if (typeof envelope === 'string') return envelope;
  const { signature: _, ...fields } = envelope;
  const id = entry.record.deliveryId?.slice(0, 8) ?? `n${entry.seq}`;
  const fileName = `${envelope.event.replace(/[^\w.-]/g, '-').slice(0, 80)}-${id}.json`;
  return { fileName, json: `${JSON.stringify(fields, null, 2)}\n`, snippet: snippetFor(entry, fileName, fields) };
}

function snippetFor(entry: Entry, fileName: string, envelope: Envelope): string {
  const { record } = entry;
  const code = record.error?.code;
  const stale = code === 'stale_timestamp';
  const expectation =
    code === 'invalid_payload' || code === 'unknown_event' || code === 'handler_failed' || stale
      ? `  await expect(webhooks.receive({ body, signature: headers['x-webhook-signature'] })).rejects.toMatchObject({ code: '${code}' });`
      : [
          `  const result = await webhooks.receive({ body, signature: headers['x-webhook-signature'] });`,
          `  expect(result.outcome).toBe('${record.outcome === 'queued' || record.outcome === 'ignored' ? record.outcome : 'handled'}');`,
        ].join('\n');
  const answered = `answered ${record.status} ${code ?? record.outcome}`;
  const timestamp = typeof envelope['timestamp'] === 'string' ? envelope['timestamp'] : '';
  return [
    `import { readFile } from 'node:fs/promises';`,
    `import { expect, test } from 'vitest';`,
    `import { createDelivery } from 'aicommerce-webhooks/testing';`,
    `import { webhooks } from './webhooks.js'; // your receiver, created with the secret below`,
    ``,
    `const secret = process.env.AICOMMERCE_WEBHOOK_SECRET!;`,
    ``,
    `// Delivery #${entry.seq} as the inspector saw it (${answered}), saved as ./${fileName}.`,
    `test(${JSON.stringify(`${envelope.event} (${answered})`)}, async () => {`,
    `  const fixture = JSON.parse(await readFile(new URL('./${fileName}', import.meta.url), 'utf8'));`,
    stale
      ? `  const { body, headers } = createDelivery(fixture.event, fixture.data, { secret, timestamp: fixture.timestamp }); // ${timestamp}: as stale as it was`
      : `  const { body, headers } = createDelivery(fixture.event, fixture.data, { secret }); // signed now, with your secret`,
    expectation,
    `});`,
    ``,
  ].join('\n');
}

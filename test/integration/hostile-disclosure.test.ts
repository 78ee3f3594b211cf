import { format, inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  STATUS_BY_CODE,
  signPayload,
  WebhookHandlerError,
  type DedupeStore,
  type ReceiverOptions,
  type WebhookError,
  type WebhookErrorCode,
  type WebhookReceiver,
} from 'aicommerce-webhooks';
import { SECRET } from '../helpers/deliveries.js';
import { rawPost, rawRequest, type RawResponse } from '../helpers/hostile-raw-http.js';
import { pathFor, startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Every rejection the receiver can answer, provoked over real HTTP with a body that carries a
// canary string, a known secret, and user code (handler, secret resolver, dedupe store) that
// carelessly puts both into its own errors. No answer may hold either, or a stack trace.

const CANARY = 'CANARY-b0dy-5e7c2a';
const STACK = /\n\s+at |node:internal|\.[cm]?[jt]s:\d+|Error:/;

/** A delivery of `chat.message.received` whose message is the canary. */
const canaryBody = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    event: 'chat.message.received',
    timestamp: new Date().toISOString(),
    data: { sessionId: 'sess_1', storeId: 'store_1', message: CANARY },
    ...overrides,
  });
const staleBody = (): string => canaryBody({ timestamp: new Date(Date.now() - 3600_000).toISOString() });

const leakyError = (): Error => new Error(`failed on ${CANARY} with ${SECRET}`);
const storeThat = (claim: DedupeStore['claim']): DedupeStore => ({ claim });
const failingHandler = (error: () => Error) => (webhooks: WebhookReceiver) =>
  void webhooks.on('chat.message.received', () => {
    throw error();
  });

/** A signed POST; `extra` headers replace the defaults of the same name. */
function post(path: string, body: string, extra: [string, string][] = [], signature = signPayload(body, SECRET)): Buffer {
  const defaults: [string, string][] = [['Content-Type', 'application/json'], ['X-Webhook-Signature', signature]];
  const replaced = new Set(extra.map(([name]) => name.toLowerCase()));
  return rawPost(path, [...defaults.filter(([name]) => !replaced.has(name.toLowerCase())), ...extra], body);
}

interface Scenario {
  code: WebhookErrorCode;
  options?: ReceiverOptions;
  setup?: (webhooks: WebhookReceiver) => void;
  request(path: string): Buffer;
}

const scenarios: Scenario[] = [
  { code: 'invalid_signature', request: (p) => post(p, canaryBody(), [], signPayload(canaryBody(), `${SECRET}-other`)) },
  { code: 'stale_timestamp', request: (p) => post(p, staleBody()) },
  { code: 'invalid_json', request: (p) => post(p, `{"message":"${CANARY}`) },
  {
    code: 'invalid_payload', // the canary as every bad value, and as a key
    request: (p) =>
      post(p, canaryBody({ event: 'analytics.daily', data: { storeId: '', date: CANARY, sessions: CANARY, messages: [CANARY], [CANARY]: CANARY } })),
  },
  { code: 'unknown_event', options: { unknownEvents: 'reject' }, request: (p) => post(p, canaryBody({ event: CANARY })) },
  { code: 'payload_too_large', options: { limit: 64 }, request: (p) => post(p, canaryBody()) },
  { code: 'unsupported_media_type', request: (p) => post(p, canaryBody(), [['Content-Type', `text/${CANARY}`]]) },
  { code: 'method_not_allowed', request: (p) => Buffer.from(post(p, canaryBody()).toString('latin1').replace(/^POST/, 'PUT'), 'latin1') },
  { code: 'body_timeout', options: { bodyTimeout: 200 }, request: (p) => post(p, '', [['Content-Length', '100']]) },
  { code: 'handler_failed', setup: failingHandler(leakyError), request: (p) => post(p, canaryBody()) },
  {
    code: 'misconfigured',
    options: {
      secret: () => {
        throw leakyError();
      },
    },
    request: (p) => post(p, canaryBody()),
  },
  { code: 'store_unavailable', options: { dedupe: storeThat(() => Promise.reject(leakyError())) }, request: (p) => post(p, canaryBody()) },
  { code: 'in_flight', options: { dedupe: storeThat(() => ({ status: 'in_flight' })) }, request: (p) => post(p, canaryBody()) },
];

/** `{ error, code, issues? }` with the code's status, and nothing it must not hold. */
function expectSafeAnswer(answer: RawResponse, code: WebhookErrorCode): void {
  expect(answer.status).toBe(STATUS_BY_CODE[code]);
  expect(answer.body).not.toContain(CANARY);
  expect(answer.body).not.toContain(SECRET);
  expect(answer.body).not.toMatch(STACK);
  const json = JSON.parse(answer.body) as { error: unknown; code: unknown; issues?: unknown };
  expect(json.code).toBe(code);
  expect(typeof json.error).toBe('string');
  expect(Object.keys(json).filter((k) => !['error', 'code', 'issues'].includes(k))).toEqual([]);
  for (const issue of (json.issues ?? []) as object[]) expect(Object.keys(issue).sort()).toEqual(['message', 'path']);
  expect(answer.headers['cache-control']).toBe('no-store');
}

describe.each(transports)('%s: every error answer', (transport: Transport) => {
  let server: HostileServer | undefined;
  afterEach(() => server?.close());

  it.each(scenarios.map((s) => [s.code, s] as const))('%s: holds no body, no secret, no stack', async (code, scenario) => {
    server = await startServer(transport, { ...scenario.options }, scenario.setup);
    const answer = await rawRequest(server.port, scenario.request(pathFor(transport)));
    expectSafeAnswer(answer, code);
    expect(server.errors.map((e) => e.code)).toEqual([code]);
  });
});

describe('logs and onError', () => {
  it('what the package logs or reports never holds the secret or the body', async () => {
    // User code that fails without leaking anything: any canary or secret below came from the package.
    const neutral = (): Error => new Error('user code failed');
    const logged: string[] = [];
    const spies = [
      vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(format(...args))),
      vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void logged.push(format(...args))),
      vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => void logged.push(format(warning))),
    ];
    const reported: WebhookError[] = [];
    try {
      const configurations: { options?: ReceiverOptions; failing?: boolean; observe?: boolean }[] = [
        { failing: true }, // 500 handler_failed, logged (nobody observes)
        { options: { secret: () => Promise.reject(neutral()) } }, // 500 misconfigured, logged
        { options: { dedupe: storeThat(() => Promise.reject(neutral())) } }, // 503 store_unavailable, logged
        { failing: true, observe: true }, // reported to onError instead of logged
        { observe: true },
      ];
      for (const { options, failing = false, observe = false } of configurations) {
        const webhooks = createWebhookReceiver({ secret: SECRET, ...options });
        if (failing) failingHandler(neutral)(webhooks);
        if (observe) webhooks.onError((e) => void reported.push(e));
        const bodies = [canaryBody(), staleBody(), `{"broken":"${CANARY}`, canaryBody({ data: { message: CANARY } })];
        for (const body of bodies) {
          await webhooks.receive({ body, signature: signPayload(body, SECRET) }).catch(() => {});
          await webhooks.receive({ body, signature: `sha256=${CANARY}` }).catch(() => {});
        }
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    // Something was logged and reported, so the checks below look at real output.
    for (const line of ['500 handler_failed', '500 misconfigured', '503 store_unavailable']) expect(logged.join('\n')).toContain(line);
    expect(new Set(reported.map((e) => e.code))).toEqual(new Set(['handler_failed', 'invalid_signature', 'stale_timestamp', 'invalid_json', 'invalid_payload']));

    const printed = [...logged, ...reported.map((e) => `${inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`)].join('\n');
    expect(printed).not.toContain(CANARY);
    expect(printed).not.toContain(SECRET);
    // The event is still there for code that asks for it: it just is not printed.
    const failure = reported.find((e): e is WebhookHandlerError => e instanceof WebhookHandlerError);
    expect(JSON.stringify(failure?.event)).toContain(CANARY);
  });
});

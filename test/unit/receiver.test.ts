import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  signPayload,
  WebhookError,
  WebhookHandlerError,
  type DeliveryContext,
  type WebhookEvent,
} from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';

const secret = 'whsec_receiver';
const signed = (event: string, data: unknown, options: { secret?: string } = {}) => {
  const { body, headers } = createDelivery(event, data, { secret: options.secret ?? secret });
  return { body, signature: headers['x-webhook-signature'] };
};
const added = () => signed('product.added', sampleEvents['product.added']);

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('createWebhookReceiver options', () => {
  it('takes the secret from AICOMMERCE_WEBHOOK_SECRET by default', async () => {
    vi.stubEnv('AICOMMERCE_WEBHOOK_SECRET', 'from-env');
    const webhooks = createWebhookReceiver();
    await expect(webhooks.receive(signed('product.added', sampleEvents['product.added'], { secret: 'from-env' }))).resolves.toMatchObject({
      outcome: 'handled',
    });
    await expect(webhooks.receive(added())).rejects.toMatchObject({ status: 401 });
  });

  it.each([
    ['no secret at all', {}],
    ['an empty secret', { secret: '' }],
    ['an empty list', { secret: [] }],
    ['a list with an empty secret', { secret: ['ok', ''] }],
  ])('throws at creation with %s', (_, options) => {
    vi.stubEnv('AICOMMERCE_WEBHOOK_SECRET', '');
    expect(() => createWebhookReceiver(options)).toThrow(TypeError);
  });

  it('names the environment variable when the secret is missing', () => {
    vi.stubEnv('AICOMMERCE_WEBHOOK_SECRET', undefined);
    expect(() => createWebhookReceiver()).toThrow(/AICOMMERCE_WEBHOOK_SECRET/);
  });

  it.each([
    [{ limit: 0 }, /limit/],
    [{ limit: 'huge' }, /limit/],
    [{ limit: -5 }, /limit/],
    [{ bodyTimeout: 0 }, /bodyTimeout/],
    [{ tolerance: -1 }, /tolerance/],
    [{ tolerance: Number.NaN }, /tolerance/],
    [{ unknownEvents: 'drop' as 'ignore' }, /unknownEvents/],
  ])('rejects the invalid option %o', (options, message) => {
    expect(() => createWebhookReceiver({ secret, ...options })).toThrow(message);
  });

  it.each([
    ['1kb', 1024],
    ['1.5 KB', 1536],
    ['2mb', 2 * 1024 * 1024],
    [500, 500],
    ['700', 700],
  ])('reads the limit %s as %i bytes', async (limit, bytes) => {
    const webhooks = createWebhookReceiver({ secret, limit });
    const fits = 'x'.repeat(bytes);
    // A body of exactly the limit passes the size check (and then fails as JSON); one byte more is 413.
    await expect(webhooks.receive({ body: fits, signature: signPayload(fits, secret) })).rejects.toMatchObject({ status: 400 });
    await expect(webhooks.receive({ body: `${fits}x`, signature: undefined })).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});

describe('handler registration', () => {
  it('runs handlers by exact name, list, prefix, wildcard and onAny, each once', async () => {
    const webhooks = createWebhookReceiver({ secret, dedupe: false });
    const calls: string[] = [];
    webhooks.on('product.added', () => void calls.push('exact'));
    webhooks.on(['product.added', 'product.updated'], () => void calls.push('list'));
    webhooks.on('product.*', () => void calls.push('prefix'));
    webhooks.on('chat.*', () => void calls.push('other prefix'));
    webhooks.on('*', () => void calls.push('star'));
    webhooks.onAny(() => void calls.push('any'));
    await webhooks.receive(added());
    expect(calls.sort()).toEqual(['any', 'exact', 'list', 'prefix', 'star']);
  });

  it('gives the handler the validated event and a context with the delivery id and headers', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const seen: [WebhookEvent<'product.added'>, DeliveryContext][] = [];
    webhooks.on('product.added', (event, context) => void seen.push([event, context]));
    const delivery = added();
    await webhooks.receive({ ...delivery, headers: { 'x-store': 'store_xyz' }, url: '/hooks' });
    const [event, context] = seen[0]!;
    expect(event).toMatchObject({ event: 'product.added', data: sampleEvents['product.added'] });
    expect(context.id).toMatch(/^[0-9a-f]{64}$/);
    expect(context.headers).toEqual({ 'x-store': 'store_xyz' });
    expect(context.url).toBe('/hooks');
  });

  it('unsubscribes with the function on() returns, for every name of a list', async () => {
    const webhooks = createWebhookReceiver({ secret, dedupe: false });
    const handler = vi.fn();
    const off = webhooks.on(['product.added', 'product.updated'], handler);
    await webhooks.receive(added());
    off();
    off(); // twice is harmless
    await webhooks.receive(added());
    await webhooks.receive(signed('product.updated', sampleEvents['product.updated']));
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('rejects names that match no event, empty lists and non-functions at registration', () => {
    const webhooks = createWebhookReceiver({ secret });
    expect(() => webhooks.on('product.*.x' as 'product.added', () => {})).toThrow(/no event matches 'product\.\*\.x'/);
    expect(() => webhooks.on([], () => {})).toThrow(TypeError);
    expect(() => webhooks.on('product.added', 'nope' as unknown as () => void)).toThrow(TypeError);
    expect(() => webhooks.onError(42 as unknown as () => void)).toThrow(TypeError);
  });

  it('answers handled when a known event has no handler', async () => {
    const webhooks = createWebhookReceiver({ secret });
    await expect(webhooks.receive(added())).resolves.toMatchObject({ outcome: 'handled' });
  });
});

describe('handler failures', () => {
  it('runs the handlers of one delivery concurrently', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    webhooks.on('product.added', async () => {
      order.push('first started');
      await gate;
      order.push('first finished');
    });
    webhooks.on('product.added', () => {
      order.push('second ran');
      release();
    });
    await webhooks.receive(added());
    expect(order).toEqual(['first started', 'second ran', 'first finished']);
  });

  it('reports every failure together (sync throws and rejections) as one 500 WebhookHandlerError', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const reported: WebhookError[] = [];
    webhooks.onError((error) => void reported.push(error));
    const survivor = vi.fn();
    webhooks.on('product.added', () => {
      throw new Error('sync boom');
    });
    webhooks.on('product.added', async () => Promise.reject(new Error('async boom')));
    webhooks.on('product.added', survivor);
    const error = await webhooks.receive(added()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookHandlerError);
    expect(error).toMatchObject({ status: 500, code: 'handler_failed', message: 'Webhook handler failed' });
    expect((error as WebhookHandlerError).errors.map((e) => (e as Error).message)).toEqual(['sync boom', 'async boom']);
    expect((error as WebhookHandlerError).event).toMatchObject({ event: 'product.added' });
    expect(Object.keys(error as object)).not.toContain('event'); // loggers that print own keys won't print the body
    expect(survivor).toHaveBeenCalledTimes(1);
    expect(reported).toEqual([error]);
  });

  it('a single failing handler, sync or async, is a 500 too', async () => {
    for (const handler of [
      () => {
        throw new Error('x');
      },
      async () => {
        throw new Error('y');
      },
    ]) {
      const webhooks = createWebhookReceiver({ secret });
      webhooks.on('product.added', handler);
      await expect(webhooks.receive(added())).rejects.toMatchObject({ status: 500, errors: [expect.any(Error)] });
    }
  });

  it('releases the claim when a handler fails, so the retry of the same delivery runs again', async () => {
    const webhooks = createWebhookReceiver({ secret });
    let attempts = 0;
    webhooks.on('product.added', () => {
      attempts += 1;
      if (attempts === 1) throw new Error('transient');
    });
    const delivery = added();
    await expect(webhooks.receive(delivery)).rejects.toMatchObject({ status: 500 });
    await expect(webhooks.receive(delivery)).resolves.toMatchObject({ outcome: 'handled' });
    await expect(webhooks.receive(delivery)).resolves.toMatchObject({ outcome: 'duplicate' });
    expect(attempts).toBe(2);
  });
});

describe('onError', () => {
  it('observes every rejection with its status and code, and can be removed', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const codes: string[] = [];
    const off = webhooks.onError((error) => void codes.push(`${error.status} ${error.code}`));
    await webhooks.receive({ ...added(), signature: 'sha256=00' }).catch(() => {});
    await webhooks.receive({ body: '{', signature: signPayload('{', secret) }).catch(() => {});
    off();
    await webhooks.receive({ ...added(), signature: undefined }).catch(() => {});
    expect(codes).toEqual(['401 invalid_signature', '400 invalid_json']);
  });

  it('cannot change or break the answer: a throwing or rejecting observer is only warned about', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.message);
    process.on('warning', onWarning);
    webhooks.onError(() => {
      throw new Error('observer bug');
    });
    webhooks.onError(async () => Promise.reject(new Error('async observer bug')));
    try {
      await expect(webhooks.receive({ ...added(), signature: undefined })).rejects.toMatchObject({ status: 401 });
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.some((w) => w.includes('observer bug'))).toBe(true);
    expect(warnings.some((w) => w.includes('async observer bug'))).toBe(true);
  });

  it('without observers, prints server-side failures (5xx) and stays quiet about 4xx', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const webhooks = createWebhookReceiver({ secret });
    webhooks.on('product.added', () => {
      throw new Error('handler bug');
    });
    await webhooks.receive({ ...added(), signature: undefined }).catch(() => {});
    expect(printed).not.toHaveBeenCalled();
    await webhooks.receive(added()).catch(() => {});
    expect(printed).toHaveBeenCalledTimes(1);
    expect(String(printed.mock.calls[0]![0])).toContain('500 handler_failed');
    expect((printed.mock.calls[0]![1] as Error).message).toBe('handler bug');
  });
});

describe('receive()', () => {
  it('answers ignored for an unknown event by default, and 400 unknown_event under reject', async () => {
    const delivery = signed('order.created', { id: 1 });
    const ignoring = createWebhookReceiver({ secret });
    const any = vi.fn();
    ignoring.onAny(any);
    await expect(ignoring.receive(delivery)).resolves.toMatchObject({ outcome: 'ignored', event: { event: 'order.created' } });
    expect(any).not.toHaveBeenCalled();
    const rejecting = createWebhookReceiver({ secret, unknownEvents: 'reject' });
    await expect(rejecting.receive(delivery)).rejects.toMatchObject({ status: 400, code: 'unknown_event' });
  });

  it('refuses a parsed object instead of the raw body, with a message that says why', async () => {
    const webhooks = createWebhookReceiver({ secret });
    await expect(webhooks.receive({ body: { event: 'x' } as unknown as string, signature: undefined })).rejects.toMatchObject({
      status: 500,
      code: 'misconfigured',
      message: expect.stringContaining('raw body'),
    });
  });

  it('verifies before parsing: an unsigned non-JSON body is 401, not 400', async () => {
    const webhooks = createWebhookReceiver({ secret });
    await expect(webhooks.receive({ body: 'not json', signature: undefined })).rejects.toMatchObject({ status: 401 });
  });

  it('rejects bodies that are not UTF-8, JSON nested too deep, and JSON that is not an object', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const bad = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]);
    await expect(webhooks.receive({ body: bad, signature: signPayload(bad, secret) })).rejects.toMatchObject({ code: 'invalid_json' });
    const deep = `{"event":"product.added","data":${'['.repeat(100)}${']'.repeat(100)}}`;
    await expect(webhooks.receive({ body: deep, signature: signPayload(deep, secret) })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('nested deeper'),
    });
    await expect(webhooks.receive({ body: '"a string"', signature: signPayload('"a string"', secret) })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_payload',
    });
  });

  it('accepts a Uint8Array body that is a view into a larger buffer', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const { body, signature } = added();
    const padded = Buffer.concat([Buffer.from('xxxx'), Buffer.from(body), Buffer.from('yyyy')]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 4, Buffer.byteLength(body));
    await expect(webhooks.receive({ body: view, signature })).resolves.toMatchObject({ outcome: 'handled' });
  });
});

describe('secret resolvers and rotation', () => {
  it('accepts deliveries signed with any secret of a rotation list', async () => {
    const webhooks = createWebhookReceiver({ secret: ['new', 'old'], dedupe: false });
    for (const key of ['new', 'old']) {
      await expect(webhooks.receive(signed('product.added', sampleEvents['product.added'], { secret: key }))).resolves.toMatchObject({
        outcome: 'handled',
      });
    }
    await expect(webhooks.receive(signed('product.added', sampleEvents['product.added'], { secret: 'retired' }))).rejects.toMatchObject({
      status: 401,
    });
  });

  it('calls a resolver with the headers and url, sync or async, per request', async () => {
    const secrets: Record<string, string> = { store_a: 'secret-a', store_b: 'secret-b' };
    const resolver = vi.fn(async ({ headers }: { headers: Record<string, unknown> }) => secrets[String(headers['x-store-id'])]);
    const webhooks = createWebhookReceiver({ secret: resolver, dedupe: false });
    const delivery = signed('product.added', sampleEvents['product.added'], { secret: 'secret-b' });
    await expect(webhooks.receive({ ...delivery, headers: { 'x-store-id': 'store_b' }, url: '/w' })).resolves.toMatchObject({
      outcome: 'handled',
    });
    expect(resolver).toHaveBeenCalledWith({ headers: { 'x-store-id': 'store_b' }, url: '/w' });
    await expect(webhooks.receive({ ...delivery, headers: { 'x-store-id': 'store_a' } })).rejects.toMatchObject({ status: 401 });
    const syncList = createWebhookReceiver({ secret: () => ['x', 'secret-b'] });
    await expect(syncList.receive(delivery)).resolves.toMatchObject({ outcome: 'handled' });
  });

  it('is 401 when the resolver has no secret for the request, 500 misconfigured when it throws', async () => {
    for (const none of [undefined, '', []]) {
      const webhooks = createWebhookReceiver({ secret: () => none });
      await expect(webhooks.receive(added())).rejects.toMatchObject({ status: 401, code: 'invalid_signature' });
    }
    const failing = createWebhookReceiver({
      secret: async () => {
        throw new Error('vault down: token=abc');
      },
    });
    const error = await failing.receive(added()).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, code: 'misconfigured', message: 'The webhook secret could not be resolved' });
    expect((error as Error).cause).toMatchObject({ message: 'vault down: token=abc' });
  });
});

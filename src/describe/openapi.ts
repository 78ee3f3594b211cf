import type { z } from 'zod';
import { anyEnvelopeSchema } from '../events.js';
import { defaultOrderKeys } from '../deliver/order.js';
import type { Settings } from '../options.js';
import { sampleEvents } from '../testing/samples.js';
import { errorBodySchema, receivedBodySchema, responses, type AnswerScope } from './answers.js';
import { embed, pointer, typeNames } from './embed.js';
import { deliveryJsonSchema, type DeliverySchemas, type JsonSchema } from './json-schema.js';
import type { OpenAPIDocument, OpenAPIMediaType, OpenAPIOperation, OpenAPIOptions, OpenAPIParameter } from './types.js';
import { PACKAGE_VERSION } from './version.js';

/** AICommerce's webhook documentation: where the wire format comes from. */
export const AICOMMERCE_WEBHOOK_DOCS = 'https://www.aibuyassistant.com/docs/webhooks';

/** The receiver's settings that shape its contract. */
export interface DescribeSettings extends Omit<AnswerScope, 'unknownEvents' | 'ordered'> {
  readonly unknownEvents: 'ignore' | 'reject';
  readonly path: string | undefined;
  /** The events latest wins orders inline (those with an entity key; none in queued mode, where the workers order). */
  readonly ordered: readonly string[];
}

/** The settings of a receiver, as its contract needs them. */
export const describeSettings = ({ path, dedupe, queue, toleranceMs, rejectUnknownEvents }: Settings, ordered: readonly string[]): DescribeSettings => ({
  path,
  ordered: queue === undefined ? ordered : [],
  dedupe: dedupe !== undefined,
  queue: queue !== undefined,
  tolerance: toleranceMs !== undefined,
  unknownEvents: rejectUnknownEvents ? 'reject' : 'ignore',
});

/** What a receiver created with no options but a secret describes (the CLI's and docs/ contract). */
export const DEFAULT_SETTINGS: DescribeSettings = {
  path: undefined,
  dedupe: true,
  queue: false,
  tolerance: true,
  unknownEvents: 'ignore',
  ordered: Object.keys(defaultOrderKeys),
};

/** The timestamp of the examples: fixed, so the generated documents only change when the contract does. */
const EXAMPLE_TIMESTAMP = '2026-01-15T09:30:00.000Z';

/** Component names of the shared parts; no event's type name may take them. */
const ERROR = 'WebhookError';
const RECEIVED = 'WebhookReceived';
const OTHER_EVENT = 'OtherEvent';
const SIGNATURE = 'WebhookSignature';

const signatureParameter: OpenAPIParameter = {
  name: 'x-webhook-signature',
  in: 'header',
  required: true,
  description:
    "`sha256=` and the lower-case hex HMAC-SHA256 of the exact bytes of the body, keyed with the endpoint's secret (UTF-8). " +
    'Checked before the body is parsed: missing, malformed or wrong → 401 `invalid_signature`. ' +
    'A `signature` field inside the body is accepted and never trusted.',
  schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' },
};

const DESCRIPTION = `The deliveries AICommerce POSTs to a store's webhook endpoint, and the answers the endpoint gives.
Generated from the zod schemas of the receiver (\`aicommerce-webhooks\`); the wire format is AICommerce's
[webhook documentation](${AICOMMERCE_WEBHOOK_DOCS}).

Every delivery is \`application/json\`, signed in the \`x-webhook-signature\` header over its exact bytes.
Objects keep fields they do not know. An answer other than 2xx makes AICommerce retry the same body,
up to 3 times with exponential backoff.`;

/** `toOpenAPI()`: the whole contract of a receiver with these schemas and settings. */
export function openAPIDocument(schemas: DeliverySchemas, settings: DescribeSettings, options: OpenAPIOptions = {}): OpenAPIDocument {
  const path = options.path ?? settings.path;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw new TypeError(`toOpenAPI(): path must start with '/' (got ${String(path)})`);
  }
  const names = typeNames(schemas.keys(), [ERROR, RECEIVED, OTHER_EVENT, SIGNATURE]);
  const componentSchemas: Record<string, JsonSchema> = {};
  const ref = (name: string): string => pointer('components', 'schemas', name);
  const refs = { error: ref(ERROR), received: ref(RECEIVED) };
  const webhooks: OpenAPIDocument['webhooks'] = {};

  for (const [event, { schema }] of schemas) {
    const name = names.get(event)!;
    componentSchemas[name] = embed(deliveryJsonSchema(event, schema), ref(name));
    webhooks[event] = {
      post: operation({
        operationId: camelCase(name),
        summary: event,
        description: `AICommerce POSTs a \`${event}\` delivery: the envelope around this event's \`data\`.`,
        body: { schema: { $ref: ref(name) }, ...examplesOf(event, schema) },
        responses: responses({ ...settings, unknownEvents: undefined, ordered: settings.ordered.includes(event) }, refs),
      }),
    };
  }
  componentSchemas[ERROR] = errorBodySchema;
  componentSchemas[RECEIVED] = receivedBodySchema;

  const document: OpenAPIDocument = {
    openapi: '3.1.0',
    info: { title: options.title ?? 'AICommerce webhooks', version: options.version ?? PACKAGE_VERSION, description: DESCRIPTION },
    externalDocs: { description: 'AICommerce webhook documentation', url: AICOMMERCE_WEBHOOK_DOCS },
    webhooks,
    components: { schemas: componentSchemas, parameters: { [SIGNATURE]: signatureParameter } },
  };
  if (path !== undefined) document.paths = { [path]: { post: receiveOperation(schemas, settings, names, componentSchemas) } };
  return document;
}

/** The endpoint itself (`paths[path]`): a delivery of any event, and a catch-all for events with no schema when they are ignored. */
function receiveOperation(
  schemas: DeliverySchemas,
  settings: DescribeSettings,
  names: ReadonlyMap<string, string>,
  componentSchemas: Record<string, JsonSchema>,
): OpenAPIOperation {
  const ref = (name: string): string => pointer('components', 'schemas', name);
  const branches = [...names.values()].map((name) => ({ $ref: ref(name) }));
  if (settings.unknownEvents === 'ignore') {
    componentSchemas[OTHER_EVENT] = otherEventSchema([...schemas.keys()], ref(OTHER_EVENT));
    branches.push({ $ref: ref(OTHER_EVENT) });
  }
  const documented = schemas.get('chat.message.received');
  return operation({
    operationId: 'receiveWebhook',
    summary: 'Receive an AICommerce delivery',
    description:
      'The endpoint the store serves: a delivery of any event. ' +
      (settings.unknownEvents === 'ignore'
        ? 'An event with no schema is answered 200 `ignored` when its envelope is well formed.'
        : 'An event with no schema is rejected (400 `unknown_event`).'),
    // anyOf, not oneOf: the branches already exclude each other by `event` (a const each, or
    // none of those), but linters cannot see through the catch-all's `not` and call it overlap.
    body: { schema: { anyOf: branches }, ...(documented === undefined ? {} : examplesOf('chat.message.received', documented.schema)) },
    responses: responses({ ...settings, ordered: settings.ordered.length > 0 }, { error: ref(ERROR), received: ref(RECEIVED) }),
  });
}

function operation(parts: {
  operationId: string;
  summary: string;
  description: string;
  body: OpenAPIMediaType;
  responses: OpenAPIOperation['responses'];
}): OpenAPIOperation {
  return {
    operationId: parts.operationId,
    summary: parts.summary,
    description: parts.description,
    parameters: [{ $ref: pointer('components', 'parameters', SIGNATURE) }],
    requestBody: {
      description: 'The delivery, exactly as signed: any re-serialisation breaks the signature.',
      required: true,
      content: { 'application/json': parts.body },
    },
    responses: parts.responses,
    // The signature is a header over the body, not a credential an OpenAPI security scheme can describe.
    security: [],
  };
}

/** The sample delivery of a built-in event, when it still fits the (perhaps replaced) schema. */
function examplesOf(event: string, schema: z.ZodType): Pick<OpenAPIMediaType, 'examples'> {
  if (!Object.hasOwn(sampleEvents, event)) return {};
  const value = { event, timestamp: EXAMPLE_TIMESTAMP, data: sampleEvents[event as keyof typeof sampleEvents] };
  if (!schema.safeParse(value).success) return {};
  return event === 'chat.message.received'
    ? { examples: { documented: { summary: "AICommerce's documented example", value } } }
    : { examples: { sample: { summary: `A sample ${event} delivery`, value } } };
}

/** A well-formed envelope of an event with no schema: what `unknownEvents: 'ignore'` answers 200 `ignored`. */
function otherEventSchema(known: readonly string[], at: string): JsonSchema {
  const schema = embed(deliveryJsonSchema('(any other event)', anyEnvelopeSchema), at);
  const properties = schema.properties as Record<string, JsonSchema>;
  properties['event'] = { ...properties['event'], not: { enum: [...known] } };
  return schema;
}

const camelCase = (name: string): string => name[0]!.toLowerCase() + name.slice(1);


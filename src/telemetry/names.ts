// The names operators query by (docs/observe.md lists them). Attributes that
// OpenTelemetry's semantic conventions already name (`http.response.status_code`, `error.type`)
// keep their standard names.

/** The event name, e.g. `chat.message.received`. */
export const ATTR_EVENT = 'aicommerce.webhook.event';
/** The delivery id: SHA-256 (hex) of the raw body, the same for every retry of one delivery (`context.id`). */
export const ATTR_DELIVERY_ID = 'aicommerce.webhook.delivery_id';
/** `handled`, `ignored`, `duplicate`, `superseded`, `queued`, `rejected` (a 4xx) or `failed` (a 5xx). */
export const ATTR_OUTCOME = 'aicommerce.webhook.outcome';
/** The status the receiver answers (or would answer, for `receive()`) with. */
export const ATTR_STATUS = 'http.response.status_code';
/** The rejection's `code` (`invalid_signature`, `handler_failed` …); absent when all went well. */
export const ATTR_ERROR_TYPE = 'error.type';
/** The handler function's name, when it has one. */
export const ATTR_FUNCTION = 'code.function.name';

export const SPAN_DELIVERY = 'aicommerce.webhook.delivery';
export const SPAN_HANDLER = 'aicommerce.webhook.handler';

/** Counter of deliveries, by outcome and code (and event, for events the receiver has a schema for). */
export const METRIC_DELIVERIES = 'aicommerce.webhook.deliveries';
/** Histogram of each handler run's duration, in seconds. */
export const METRIC_HANDLER_DURATION = 'aicommerce.webhook.handler.duration';

/** What a rejection counts as: the sender's problem (4xx) or ours (5xx). */
export const outcomeOfStatus = (status: number): 'rejected' | 'failed' => (status >= 500 ? 'failed' : 'rejected');

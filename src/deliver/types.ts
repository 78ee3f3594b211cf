import type { CheckedDelivery } from '../pipeline.js';
import type { ReceiveInput } from '../request.js';
import type { Delivered } from '../report.js';

/** A delivery that passed every check and whose event has a schema. */
export type KnownDelivery = Extract<CheckedDelivery, { known: true }>;

/** The step after freshness: inline (src/deliver/inline.ts) or queued (src/deliver/queued.ts). */
export type Deliver = (delivery: KnownDelivery, input: ReceiveInput) => Promise<Delivered>;

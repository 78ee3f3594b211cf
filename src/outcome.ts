import type { z } from 'zod';
import type { anyEnvelopeSchema } from './events.js';

/** An event whose name has no schema: only its envelope was checked. */
export type UnknownEvent = z.output<typeof anyEnvelopeSchema>;

/** How a delivery that was not rejected ended; each has its own answer (src/http/answers.ts). */
export type ReceiveResult<Event> =
  | { outcome: 'handled'; event: Event }
  | { outcome: 'duplicate'; event: Event }
  | { outcome: 'queued'; event: Event }
  /** Older than the newest delivery already applied for its entity (latest wins): its handlers did not run. */
  | { outcome: 'superseded'; event: Event }
  | { outcome: 'ignored'; event: UnknownEvent };

export type Outcome = ReceiveResult<unknown>['outcome'];

/** The HTTP status of each outcome: 202 says "stored, not yet processed"; the rest were dealt with. */
export const STATUS_BY_OUTCOME: Readonly<Record<Outcome, number>> = { handled: 200, ignored: 200, duplicate: 200, superseded: 200, queued: 202 };

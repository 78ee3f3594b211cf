import { queueTrouble, type WebhookError } from '../errors.js';
import { explainRedisError } from './clients.js';

/** A queue or worker that cannot reach Redis reports it at most this often. */
export const OUTAGE_REPORT_INTERVAL_MS = 60_000;

/**
 * Turns the errors BullMQ emits while Redis is away (one per reconnection attempt, per
 * connection) into one `queue_unavailable` report a minute, which says where and why and that it
 * keeps retrying. `now` is the clock, for tests.
 */
export function outageReporter(
  who: string,
  where: string,
  report: (error: WebhookError) => void,
  { intervalMs = OUTAGE_REPORT_INTERVAL_MS, now = Date.now }: { intervalMs?: number; now?: () => number } = {},
): (error: unknown) => void {
  let quietUntil = Number.NEGATIVE_INFINITY;
  return (cause) => {
    if (now() < quietUntil) return;
    quietUntil = now() + intervalMs;
    report(queueTrouble(`${who}: ${explainRedisError(cause, where)}; retrying`, cause));
  };
}

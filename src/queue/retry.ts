// Queued mode's retry schedule: capped exponential backoff with downward jitter, and the number of
// attempts that makes it span a given time. One home, so the receiver (which writes `attempts` into
// each job) and the worker (which computes each wait) cannot disagree.

/** How a queued delivery's failed handler runs are retried (`BullMQDeliveryQueue`'s `retry` option): capped exponential backoff with jitter, for at least `retryForMs`. */
export interface RetryPolicy {
  /** Wait before the first retry, in ms; each next wait doubles. Default 1,000. */
  readonly baseDelayMs?: number;
  /** No wait is longer than this, in ms. Default 3,600,000 (1 hour). */
  readonly maxDelayMs?: number;
  /** Each wait is shortened by up to this fraction, at random, so a backlog does not retry in step. Default 0.2. */
  readonly jitter?: number;
  /** Keep retrying for at least this long after the first failure, in ms. Default 86,400,000 (24 hours). */
  readonly retryForMs?: number;
}

export const DEFAULT_RETRY = { baseDelayMs: 1_000, maxDelayMs: 60 * 60 * 1000, jitter: 0.2, retryForMs: 24 * 60 * 60 * 1000 } as const;

/** The longest wait before retry `retry` (1-based), before jitter. */
export const cappedDelay = (retry: number, baseDelayMs: number, maxDelayMs: number): number =>
  Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(retry - 1, 52));

/** Attempts (the first run and its retries) whose waits, each at its shortest, add up to `retryForMs` or more. */
export function attemptsFor({ baseDelayMs, maxDelayMs, jitter, retryForMs }: Required<RetryPolicy>): number {
  let attempts = 1;
  for (let waited = 0; waited < retryForMs; attempts++) waited += cappedDelay(attempts, baseDelayMs, maxDelayMs) * (1 - jitter);
  return attempts;
}

/** The policy with defaults applied and checked. */
export function resolveRetry(policy: RetryPolicy = {}): Required<RetryPolicy> {
  const resolved = { ...DEFAULT_RETRY, ...policy };
  for (const name of ['baseDelayMs', 'maxDelayMs', 'retryForMs'] as const) {
    if (!(resolved[name] > 0 && Number.isFinite(resolved[name]))) throw new TypeError(`retry.${name} must be a positive number of ms`);
  }
  if (!(resolved.jitter >= 0 && resolved.jitter < 1)) throw new TypeError('retry.jitter must be at least 0 and below 1');
  if (resolved.maxDelayMs < resolved.baseDelayMs) throw new TypeError('retry.maxDelayMs must be at least retry.baseDelayMs');
  return resolved;
}

/** The longest a delivery can wait through all its retries: every wait at its longest. */
export function retryHorizonMs(attempts: number, baseDelayMs: number, maxDelayMs: number): number {
  let total = 0;
  for (let retry = 1; retry < attempts; retry++) total += cappedDelay(retry, baseDelayMs, maxDelayMs);
  return total;
}

import { asWebhookError, WebhookPayloadError } from '../errors.js';
import { STATUS_BY_OUTCOME, type Outcome, type ReceiveResult } from '../outcome.js';

/** A whole HTTP answer, ready for any adapter to write. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const fixedAnswer = (outcome: Outcome, body: object): Answer => ({
  status: STATUS_BY_OUTCOME[outcome],
  headers: { 'content-type': JSON_TYPE },
  body: JSON.stringify(body),
});

/** One answer object per outcome, built once (adapters may cache what they derive from it). */
const ANSWERS: Readonly<Record<Outcome, Answer>> = {
  handled: fixedAnswer('handled', { received: true }),
  ignored: fixedAnswer('ignored', { received: true, ignored: true }),
  duplicate: fixedAnswer('duplicate', { received: true, duplicate: true }),
  superseded: fixedAnswer('superseded', { received: true, superseded: true }),
  queued: fixedAnswer('queued', { received: true, queued: true }), // accepted, not yet processed: a worker runs the handlers
};

export const answerForResult = (result: ReceiveResult<unknown>): Answer => ANSWERS[result.outcome];

/** `{ error, code, issues? }`: the error's safe message, never its cause, body or stack. */
export function answerForError(error: unknown): Answer {
  const known = asWebhookError(error);
  const body: { error: string; code: string; issues?: unknown } = { error: known.message, code: known.code };
  if (known instanceof WebhookPayloadError) body.issues = known.issues;
  return { status: known.status, headers: { ...known.headers, 'content-type': JSON_TYPE, 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

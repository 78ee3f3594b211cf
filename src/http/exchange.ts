import { asWebhookError, type WebhookError } from '../errors.js';
import type { ReceiveResult } from '../outcome.js';
import type { HttpRequest, ReceiveInput } from '../request.js';
import { answerForError, answerForResult, type Answer } from './answers.js';
import { checkRequestHead } from './request-head.js';

/** The receiver as the HTTP step needs it (src/receiver.ts wires it). */
export interface Receiving {
  /** The pipeline; reports its own rejections. */
  receive(input: ReceiveInput, request: HttpRequest): Promise<ReceiveResult<unknown>>;
  /** Reports a rejection made here, before the pipeline ran. */
  rejected(error: WebhookError, request: HttpRequest): WebhookError;
}

/**
 * One HTTP request the whole way, for every adapter: the head, the body, the pipeline; `respond`
 * gets the answer to write, once, whatever happened.
 */
export function exchange(request: HttpRequest, receiving: Receiving, respond: (answer: Answer) => void): void {
  const headError = checkRequestHead(request.method, request.headers['content-type'], request.headers['content-encoding']);
  if (headError !== undefined) return respond(answerForError(receiving.rejected(headError, request))); // 405, 415
  request.readBody((error, body) => {
    // 413, 408, 400 incomplete, 500 misconfigured
    if (error !== undefined) return respond(answerForError(receiving.rejected(asWebhookError(error), request)));
    const input = { body: body!, signature: request.headers['x-webhook-signature'], headers: request.headers, url: request.url };
    receiving.receive(input, request).then(
      (result) => respond(answerForResult(result)),
      (rejection: unknown) => respond(answerForError(rejection)), // reported by receive()
    );
  });
}

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

/** One HTTP request the whole way, for every adapter: the head, the body, the pipeline, the answer. Never rejects. */
export async function exchange(request: HttpRequest, receiving: Receiving): Promise<Answer> {
  const headError = checkRequestHead(request.method, request.headers['content-type'], request.headers['content-encoding']);
  if (headError !== undefined) return answerForError(receiving.rejected(headError, request)); // 405, 415
  let body;
  try {
    body = await request.readBody();
  } catch (error) {
    return answerForError(receiving.rejected(asWebhookError(error), request)); // 413, 408, 400 incomplete, 500 misconfigured
  }
  try {
    const input = { body, signature: request.headers['x-webhook-signature'], headers: request.headers, url: request.url };
    return answerForResult(await receiving.receive(input, request));
  } catch (error) {
    return answerForError(error); // reported by receive()
  }
}

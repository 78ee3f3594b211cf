import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { coreOf, type ReceiverCore } from '../core.js';
import { WebhookError } from '../errors.js';
import type { WebhookReceiver } from '../receiver.js';
import type { BodyInput } from '../signature.js';
import { answerForError, answerForResult, checkRequestHead, type Answer } from './exchange.js';
import { readBody } from './read-body.js';

export interface FastifyWebhooksOptions {
  /** A receiver made by `createWebhookReceiver()`, whatever its schemas. */
  receiver: WebhookReceiver<never>;
  /** The route, under the plugin's `prefix` if any. Default: the receiver's `path` option. */
  path?: string;
}

/**
 * `app.register(fastifyWebhooks, { receiver, path })`. Not wrapped in fastify-plugin on purpose:
 * its content-type parser (the raw bytes, read with the receiver's limit and timeout) and its
 * error handler live in its own encapsulated context, so the app's JSON parsing is untouched.
 */
export const fastifyWebhooks: FastifyPluginCallback<FastifyWebhooksOptions> = (instance, options, done) => {
  let core: ReceiverCore;
  try {
    core = coreOf(options.receiver);
  } catch (error) {
    return done(error as Error);
  }
  const path = options.path ?? core.settings.path;
  if (path === undefined) return done(new TypeError('fastifyWebhooks: give a path, or create the receiver with the path option'));

  instance.removeAllContentTypeParsers(); // for this context only: every type reaches the one below
  instance.addContentTypeParser('*', (request, _payload, parsed) => {
    // The socket's own bytes, whatever a parent's preParsing hook made of the payload stream.
    readBody(request.raw, core.settings, (error, body) => (error === undefined ? parsed(null, body) : parsed(core.reject(error, request.raw))));
  });
  instance.setErrorHandler((error: Error, _request, reply) => {
    // Not about the delivery (e.g. a parent's auth hook): the app's own error handler answers it.
    if (!(error instanceof WebhookError)) throw error;
    return send(reply, answerForError(error)); // reported where it was made
  });

  instance.all(path, {
    // 405 and 415 before a byte of the body is read, as the other adapters answer them.
    onRequest(request, _reply, next) {
      const error = checkRequestHead(request.method, request.headers['content-type'], request.headers['content-encoding']);
      next(error === undefined ? undefined : core.reject(error, request.raw));
    },
    async handler(request, reply) {
      try {
        const result = await core.receive({
          body: request.body as BodyInput, // what the parser above gave
          signature: request.headers['x-webhook-signature'],
          headers: request.headers,
          url: request.url,
        });
        return send(reply, answerForResult(result));
      } catch (error) {
        return send(reply, answerForError(error)); // reported by the core
      }
    },
  });
  done();
};

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  reply.code(answer.status).headers(answer.headers);
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  return reply.send(answer.body);
}


import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { adapterApiOf, type AdapterApi } from '../adapter-api.js';
import type { WebhookReceiver } from '../receiver.js';
import type { BodyCallback } from '../request.js';
import type { Answer } from './answers.js';
import { readBody } from './read-body.js';

/** The options of `app.register(fastifyWebhooks, options)`. */
export interface FastifyWebhooksOptions {
  /** A receiver made by `createWebhookReceiver()`, whatever its schemas. */
  receiver: WebhookReceiver<never>;
  /** The route, under the plugin's `prefix` if any. Default: the receiver's `path` option. */
  path?: string;
}

/**
 * `app.register(fastifyWebhooks, { receiver, path })`. Not wrapped in fastify-plugin on purpose:
 * its content-type parser (which leaves the body to the receiver) lives in its own encapsulated
 * context, so the app's JSON parsing is untouched.
 */
export const fastifyWebhooks: FastifyPluginCallback<FastifyWebhooksOptions> = (instance, options, done) => {
  let api: AdapterApi;
  try {
    api = adapterApiOf(options.receiver);
  } catch (error) {
    return done(error as Error);
  }
  const path = options.path ?? api.settings.path;
  if (path === undefined) return done(new TypeError('fastifyWebhooks: give a path, or create the receiver with the path option'));

  // For this context only: every content type reaches the route with its body unread, so the
  // receiver checks the head (405, 415) before a byte is read, then reads the socket's own bytes
  // (whatever a parent's preParsing hook made of the payload stream) with its limit and timeout.
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));

  instance.all(path, async (request, reply) => {
    const { raw } = request;
    const readRaw = (done: BodyCallback): void => readBody(raw, api.settings, done);
    const answer = await new Promise<Answer>((resolve) => api.answer({ method: raw.method, headers: raw.headers, url: request.url, readBody: readRaw }, resolve));
    return send(reply, answer);
  });
  done();
};

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  reply.code(answer.status).headers(answer.headers);
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  return reply.send(answer.body);
}

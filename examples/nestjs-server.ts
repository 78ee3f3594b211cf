/**
 * AICommerce webhooks in a NestJS app (Express platform), at /webhooks/aicommerce, beside a
 * controller that receives parsed JSON as usual. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/nestjs-server.ts
 *
 * The webhook middleware is mounted with app.use() before listen(), so it runs ahead of the JSON
 * parser Nest adds when the app starts: it reads the body itself and every answer is the package's
 * own (400, 408, 413 … with `{ error, code }`). `rawBody: true` keeps the exact bytes wherever
 * Nest's parser does run first (e.g. the middleware applied in a module with MiddlewareConsumer);
 * without a raw copy there the webhook answers 500 `misconfigured`, saying so.
 *
 * Nest's decorators are called here as the plain functions they are (`Module({...})(AppModule)`),
 * so this file needs neither `experimentalDecorators` nor `emitDecoratorMetadata`: it compiles with
 * the project's tsconfig and runs under tsx like every other example. With decorator syntax the
 * same module reads `@Module({ controllers: [OrdersController] }) export class AppModule {}`.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Body, Controller, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';

/** The rest of the app: a route that gets its JSON body parsed by Nest, as usual. */
export class OrdersController {
  create(order: unknown): { order: unknown } {
    return { order };
  }
}
Controller('orders')(OrdersController);
Post()(OrdersController.prototype, 'create', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'create')!);
Body()(OrdersController.prototype, 'create', 0);

export class AppModule {}
Module({ controllers: [OrdersController] })(AppModule);

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startNestServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  const webhooks = createWebhookReceiver(options); // secret: options.secret ?? AICOMMERCE_WEBHOOK_SECRET
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  webhooks.onError((error) => log(`rejected ${error.status} ${error.code}: ${error.message}`));

  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    rawBody: true, // keep the exact bytes next to the parsed body: the signature covers them
    logger: ['error', 'warn'],
  });
  app.use('/webhooks/aicommerce', webhooks.middleware()); // before listen(): ahead of Nest's JSON parser
  await app.listen(port, host);
  const { port: actual } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://${host}:${actual}/webhooks/aicommerce`, webhooks, close: () => app.close() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startNestServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}

import http from 'node:http';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';
import type { NodeMiddleware } from 'aicommerce-webhooks';
import { WEBHOOK_PATH } from './http.js';

export { WEBHOOK_PATH };

/** Every server the node middleware must work in, mounted the way the README says. */
export const frameworks = {
  'express 5': (middleware: NodeMiddleware) => http.createServer(express().use(WEBHOOK_PATH, middleware)),
  'express 4': (middleware: NodeMiddleware) => http.createServer(express4().use(WEBHOOK_PATH, middleware)),
  connect: (middleware: NodeMiddleware) => http.createServer(connect().use(WEBHOOK_PATH, middleware)),
  'node:http': (middleware: NodeMiddleware) => http.createServer(middleware),
} as const;

export type FrameworkName = keyof typeof frameworks;
export const frameworkNames = Object.keys(frameworks) as FrameworkName[];

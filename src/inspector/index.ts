import { Actions } from './actions.js';
import { fetchInspector, type ClientAddress, type InspectorFetchHandler } from './fetch.js';
import { checkStart } from './guard.js';
import { nodeInspector, type InspectorMiddleware } from './node.js';
import { Recorder } from './recorder.js';
import type { InspectorState } from './routes.js';
import type { InspectorSource } from './source.js';

/** The options of `webhooks.inspector()`; every one has a default (docs/inspector.md). */
export interface InspectorOptions {
  /** How many deliveries are kept, newest first. Default 200. */
  limit?: number;
  /** A body larger than this many bytes is kept as its first bytes only (and cannot be replayed). Default 65,536. */
  maxBodyBytes?: number;
  /** Answer clients other than loopback ones (another machine, a proxy, a tunnel). Default false. */
  allowRemote?: boolean;
  /** Start even under NODE_ENV=production (the page then says so). Default false: inspector() throws. */
  allowInProduction?: boolean;
  /**
   * For the Fetch handler, which sees no socket: the client's address. Deno.serve's and Bun.serve's
   * own second argument is read without it; with neither, Fetch requests are refused unless `allowRemote`.
   */
  clientAddress?: ClientAddress;
}

/**
 * The inspector: node middleware (`app.use('/webhooks/inspector', inspector)`, `http.createServer(inspector)`)
 * with a Fetch handler as `.fetch` (`(request: Request) => Promise<Response>`).
 */
export interface Inspector extends InspectorMiddleware {
  readonly fetch: InspectorFetchHandler;
  /** Stops recording (the receiver then does no record work at all) and ends the open live streams. */
  close(): void;
}

function count(name: string, value: number | undefined, fallback: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new TypeError(`inspector(): ${name} must be a whole number from 1 to ${max} (got ${String(value)})`);
  return n;
}

export function createInspector(source: InspectorSource, options: InspectorOptions = {}): Inspector {
  const start = checkStart(options.allowInProduction === true);
  const limit = count('limit', options.limit, 200, 100_000);
  const recorder = new Recorder(limit, count('maxBodyBytes', options.maxBodyBytes, 65_536, 64 * 1024 * 1024));
  if (options.clientAddress !== undefined && typeof options.clientAddress !== 'function') throw new TypeError('inspector(): clientAddress must be a function');
  const state: InspectorState = {
    source,
    recorder,
    actions: new Actions(source, recorder),
    context: { toleranceMs: source.toleranceMs },
    start,
    allowRemote: options.allowRemote === true,
    limit,
  };
  let unsubscribe: (() => void) | undefined = source.subscribe((record) => void recorder.add(record));
  const streams = new Set<() => void>();
  const middleware = nodeInspector(state, streams);
  return Object.assign(middleware, {
    fetch: fetchInspector(state, streams, options.clientAddress),
    close() {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const stop of [...streams]) stop();
      streams.clear();
    },
  });
}

export type { InspectorFetchHandler, InspectorFetchInfo, ClientAddress } from './fetch.js';
export type { InspectorMiddleware } from './node.js';
export type { DeliveryRecord, HandlerRun, InspectorSource } from './source.js';

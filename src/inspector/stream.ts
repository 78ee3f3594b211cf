import type { ExplainContext } from './explain.js';
import type { Recorder } from './recorder.js';
import { summaryOf } from './view.js';

// Server-Sent Events: one `delivery` event per new delivery, its summary as JSON. The page opens
// one stream and adds rows as they come; on a reconnect it reloads the list, so nothing is missed.

/** Where a stream writes: a node response or a ReadableStream's controller. */
export interface StreamSink {
  write(chunk: string): void;
  end(): void;
}

const HEARTBEAT_MS = 20_000;

/** Starts the stream on `sink`; returns what stops it (when the client goes, or the inspector closes). */
export function openStream(recorder: Recorder, context: ExplainContext, sink: StreamSink): () => void {
  // `retry` makes the browser reconnect soon after a server restart; the comment opens the stream at once.
  sink.write('retry: 1000\n: aicommerce-webhooks inspector\n\n');
  const unwatch = recorder.watch((entry) => sink.write(`event: delivery\nid: ${entry.seq}\ndata: ${JSON.stringify(summaryOf(entry, context))}\n\n`));
  // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
  const heartbeat = setInterval(() => sink.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref?.();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    unwatch();
    clearInterval(heartbeat);
    sink.end();
  };
}

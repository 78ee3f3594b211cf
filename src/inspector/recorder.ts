import type { BodyInput } from '../signature.js';
import type { DeliveryRecord } from './source.js';

// The last `limit` deliveries, in memory, in a ring: adding one is an index and a store, and the
// oldest falls out. A body over `maxBodyBytes` is kept as its first bytes only (a copy, so the
// whole one can be freed), which bounds what the inspector holds to limit × maxBodyBytes.

export interface Entry {
  /** 1, 2, 3 … in arrival order: how the page names a delivery. */
  readonly seq: number;
  readonly record: DeliveryRecord;
  /** The body as kept: whole, or its first `maxBodyBytes` bytes. */
  readonly body: BodyInput | undefined;
  /** Its size as received, in bytes, when only its start was kept. */
  readonly truncatedFrom: number | undefined;
}

export class Recorder {
  readonly #ring: (Entry | undefined)[];
  readonly #maxBodyBytes: number;
  #watchers: readonly ((entry: Entry) => void)[] = [];
  #next = 1;

  constructor(limit: number, maxBodyBytes: number) {
    this.#ring = new Array<Entry | undefined>(limit);
    this.#maxBodyBytes = maxBodyBytes;
  }

  add(record: DeliveryRecord): Entry {
    const seq = this.#next++;
    const body = record.body;
    let entry: Entry;
    // A string's UTF-8 size is at most 3 bytes a UTF-16 unit: most bodies need no count.
    const max = this.#maxBodyBytes;
    if (body === undefined || (typeof body === 'string' ? body.length * 3 <= max || Buffer.byteLength(body) <= max : body.byteLength <= max)) {
      entry = { seq, record, body, truncatedFrom: undefined };
    } else {
      const bytes = bytesOf(body);
      const kept = Buffer.from(bytes.subarray(0, max));
      entry = { seq, record: withBody(record, kept), body: kept, truncatedFrom: bytes.byteLength };
    }
    this.#ring[seq % this.#ring.length] = entry;
    for (const watcher of this.#watchers) watcher(entry);
    return entry;
  }

  get(seq: number): Entry | undefined {
    const entry = this.#ring[seq % this.#ring.length];
    return entry?.seq === seq ? entry : undefined;
  }

  /** Newest first. */
  list(): Entry[] {
    const entries: Entry[] = [];
    for (let seq = this.#next - 1; seq >= 1 && seq >= this.#next - this.#ring.length; seq--) {
      const entry = this.get(seq);
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }

  /** Calls `watcher` with each entry as it is added. */
  watch(watcher: (entry: Entry) => void): () => void {
    this.#watchers = [...this.#watchers, watcher];
    return () => void (this.#watchers = this.#watchers.filter((w) => w !== watcher));
  }
}

const bytesOf = (body: BodyInput): Buffer =>
  typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);

/** The record's facts, read now, with `body` in place of its reference to the whole one. */
function withBody(record: DeliveryRecord, body: BodyInput): DeliveryRecord {
  return {
    at: record.at,
    durationMs: record.durationMs,
    method: record.method,
    url: record.url,
    headers: record.headers,
    body,
    outcome: record.outcome,
    status: record.status,
    error: record.error,
    event: record.event,
    deliveryId: record.deliveryId,
    handlers: record.handlers,
  };
}

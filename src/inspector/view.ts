import { isUtf8 } from 'node:buffer';
import { ACTION_HEADER, fixtureOf, replayable } from './actions.js';
import { envelopeOf, explain, messageOf, type ExplainContext, type Explanation } from './explain.js';
import type { Entry } from './recorder.js';

// What the page is sent about a delivery: plain JSON, every value a string or a number, which the
// page puts into the DOM as text. Credentials other than the signature are never sent.

export interface SummaryView {
  readonly seq: number;
  readonly at: number;
  readonly durationMs: number;
  readonly method: string | null;
  readonly url: string | null;
  readonly event: string | null;
  /** The `event` field of a body that was not authenticated: what it claims to be, for the list. */
  readonly claimedEvent: string | null;
  readonly deliveryId: string | null;
  readonly outcome: string;
  readonly status: number;
  readonly code: string | null;
  /** What made it, when the inspector did: 'replay of #3', 'sample', 'forged' … */
  readonly action: string | null;
  readonly check: string;
  readonly reason: string;
  readonly handlers: { readonly ran: number; readonly failed: number };
}

export interface DetailView extends SummaryView {
  readonly headers: readonly (readonly [string, string])[];
  readonly body: { readonly kind: 'json' | 'text' | 'binary' | 'none'; readonly text: string; readonly bytes: number; readonly truncated: boolean };
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly explanation: Explanation;
  readonly handlerRuns: readonly {
    readonly key: string;
    readonly pattern: string;
    readonly name: string;
    readonly ok: boolean;
    readonly ms: number;
    readonly error: string | null;
    readonly stack: string | null;
  }[];
  readonly replay: { readonly available: boolean; readonly reason: string | null };
  readonly fixture: { readonly available: boolean; readonly reason: string | null; readonly fileName: string | null; readonly snippet: string | null };
}

/** Header values the page never shows: credentials a request may carry besides the signature. */
const HIDDEN_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
export const HIDDEN = '(hidden by the inspector)';

const hundredths = (ms: number): number => Math.round(ms * 100) / 100;

export function summaryOf(entry: Entry, context: ExplainContext): SummaryView {
  const { record } = entry;
  const explanation = explain(record, context);
  const action = record.headers[ACTION_HEADER];
  return {
    seq: entry.seq,
    at: Math.round(record.at),
    durationMs: hundredths(record.durationMs),
    method: record.method ?? null,
    url: record.url ?? null,
    event: record.event ?? null,
    claimedEvent: record.event === undefined ? claimedEvent(entry) : null,
    deliveryId: record.deliveryId ?? null,
    outcome: record.outcome,
    status: record.status,
    code: record.error?.code ?? null,
    action: typeof action === 'string' ? action.replace(/; ref=\d+$/, '') : null,
    check: explanation.check,
    reason: explanation.summary,
    handlers: { ran: record.handlers.length, failed: record.handlers.filter((run) => !run.ok).length },
  };
}

export function detailOf(entry: Entry, context: ExplainContext): DetailView {
  const { record } = entry;
  const replay = replayable(entry);
  const fixture = fixtureOf(entry);
  return {
    ...summaryOf(entry, context),
    headers: Object.entries(record.headers).flatMap(([name, value]) =>
      value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((one) => [name, HIDDEN_HEADERS.has(name.toLowerCase()) ? HIDDEN : String(one)] as const),
    ),
    body: bodyView(entry),
    error: record.error === undefined ? null : { code: record.error.code, message: record.error.message },
    explanation: explain(record, context),
    handlerRuns: record.handlers.map((run) => ({
      key: run.key,
      pattern: run.pattern,
      name: run.name,
      ok: run.ok,
      ms: hundredths(run.ms),
      error: run.ok ? null : messageOf(run.error),
      stack: !run.ok && run.error instanceof Error && typeof run.error.stack === 'string' ? run.error.stack : null,
    })),
    replay: typeof replay === 'string' ? { available: false, reason: replay } : { available: true, reason: null },
    fixture:
      typeof fixture === 'string'
        ? { available: false, reason: fixture, fileName: null, snippet: null }
        : { available: true, reason: null, fileName: fixture.fileName, snippet: fixture.snippet },
  };
}

function claimedEvent(entry: Entry): string | null {
  if (entry.body === undefined || entry.truncatedFrom !== undefined) return null;
  const event = envelopeOf(entry.record)?.event;
  return typeof event === 'string' ? event.slice(0, 256) : null;
}

/** The body pretty-printed when it is JSON, as text when it is UTF-8, as hex when it is neither. */
function bodyView({ body, truncatedFrom }: Entry): DetailView['body'] {
  if (body === undefined) return { kind: 'none', text: '', bytes: 0, truncated: false };
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const truncated = truncatedFrom !== undefined;
  const bodyBytes = truncatedFrom ?? bytes.byteLength;
  if (!isUtf8(bytes) && !truncated) return { kind: 'binary', text: hexDump(bytes), bytes: bodyBytes, truncated };
  const text = bytes.toString('utf8');
  try {
    return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2), bytes: bodyBytes, truncated };
  } catch {
    return { kind: 'text', text, bytes: bodyBytes, truncated };
  }
}

function hexDump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let at = 0; at < Math.min(bytes.length, 4096); at += 16) {
    lines.push(`${at.toString(16).padStart(6, '0')}  ${bytes.subarray(at, at + 16).toString('hex').replace(/(..)/g, '$1 ').trim()}`);
  }
  if (bytes.length > 4096) lines.push(`… ${bytes.length - 4096} more bytes`);
  return lines.join('\n');
}

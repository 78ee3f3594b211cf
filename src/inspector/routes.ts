import { ActionError, Actions, sampleNames, WRONG_KINDS, fixtureOf, type WrongKind } from './actions.js';
import type { ExplainContext } from './explain.js';
import { actionRefusal, refusal, type ClientFacts, type StartFacts } from './guard.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import type { Recorder } from './recorder.js';
import type { InspectorSource } from './source.js';
import { openStream, type StreamSink } from './stream.js';
import { detailOf, summaryOf } from './view.js';

// The inspector's routes, for either adapter (node.ts, fetch.ts). They are matched on the end of
// the path, so the inspector works wherever it is mounted, whether the framework strips the mount
// path (Express app.use) or not (node:http, Fastify, Koa): `…/` is the page, `…/api/…` its API.

export interface InspectorRequest {
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  readonly client: ClientFacts;
}

export type InspectorAnswer =
  | { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string }
  | { readonly stream: (sink: StreamSink) => () => void };

export interface InspectorState {
  readonly source: InspectorSource;
  readonly recorder: Recorder;
  readonly actions: Actions;
  readonly context: ExplainContext;
  readonly start: StartFacts;
  readonly allowRemote: boolean;
  readonly limit: number;
}

const API = /\/api\/(deliveries|stream|replay|sample|wrong)(?:\/([^/]+))?(?:\/([^/]+))?\/?$/;

const COMMON = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
} as const;

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export const json = (status: number, value: unknown): InspectorAnswer => ({
  status,
  headers: { ...COMMON, 'content-type': 'application/json; charset=utf-8', 'content-security-policy': API_CSP },
  body: JSON.stringify(value),
});

const problem = (status: number, message: string, extra: Record<string, string> = {}): InspectorAnswer => {
  const answer = json(status, { error: message });
  return 'body' in answer ? { ...answer, headers: { ...answer.headers, ...extra } } : answer;
};

export const STREAM_HEADERS = {
  ...COMMON,
  'content-type': 'text/event-stream; charset=utf-8',
  'content-security-policy': API_CSP,
  'x-accel-buffering': 'no', // nginx: don't buffer the stream
} as const;

export async function route(state: InspectorState, request: InspectorRequest): Promise<InspectorAnswer> {
  const refused = refusal(request.client, state.allowRemote);
  if (refused !== undefined) return problem(403, refused);
  const match = API.exec(request.path);
  if (match === null) {
    if (request.method !== 'GET' && request.method !== 'HEAD') return problem(405, 'The inspector page is read with GET.', { allow: 'GET, HEAD' });
    return { status: 200, headers: { ...COMMON, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP }, body: PAGE_HTML };
  }
  const [, resource, first, second] = match;
  const read = request.method === 'GET' || request.method === 'HEAD';
  if (resource === 'deliveries' || resource === 'stream') {
    if (!read) return problem(405, 'Use GET.', { allow: 'GET, HEAD' });
    return readRoute(state, resource, first, second);
  }
  if (request.method !== 'POST') return problem(405, 'Actions are sent with POST.', { allow: 'POST' });
  const notTheirs = actionRefusal(request.client);
  if (notTheirs !== undefined) return problem(403, notTheirs);
  try {
    return json(200, await act(state, resource!, decode(first), decode(second)));
  } catch (error) {
    if (error instanceof ActionError) return problem(error.status, error.message);
    throw error;
  }
}

function readRoute(state: InspectorState, resource: string, first: string | undefined, second: string | undefined): InspectorAnswer {
  const { recorder, context } = state;
  if (resource === 'stream') {
    if (first !== undefined) return problem(404, 'Not found');
    return { stream: (sink) => openStream(recorder, context, sink) };
  }
  if (first === undefined) {
    return json(200, { about: about(state), deliveries: recorder.list().map((entry) => summaryOf(entry, context)) });
  }
  const entry = recorder.get(Number(first));
  if (entry === undefined || !/^\d+$/.test(first)) return problem(404, `No delivery #${first} (only the last ${state.limit} are kept).`);
  if (second === undefined) return json(200, detailOf(entry, context));
  if (second !== 'fixture') return problem(404, 'Not found');
  const fixture = fixtureOf(entry);
  if (typeof fixture === 'string') return problem(409, fixture);
  return {
    status: 200,
    headers: {
      ...COMMON,
      'content-type': 'application/json; charset=utf-8',
      'content-security-policy': API_CSP,
      'content-disposition': `attachment; filename="${fixture.fileName}"`,
    },
    body: fixture.json,
  };
}

async function act(state: InspectorState, action: string, first: string | undefined, second: string | undefined): Promise<unknown> {
  const { actions, recorder } = state;
  if (action === 'replay') {
    const entry = first !== undefined && /^\d+$/.test(first) ? recorder.get(Number(first)) : undefined;
    if (entry === undefined) throw new ActionError(404, `No delivery #${first ?? ''} (only the last ${state.limit} are kept).`);
    return actions.replay(entry);
  }
  if (action === 'sample') {
    if (first === undefined) throw new ActionError(404, 'Name the event: …/api/sample/<event>.');
    return actions.sample(first);
  }
  if (first === undefined || !(WRONG_KINDS as readonly string[]).includes(first)) {
    throw new ActionError(404, `Send it wrong as one of: ${WRONG_KINDS.join(', ')}.`);
  }
  if (second === undefined) throw new ActionError(404, 'Name the event: …/api/wrong/<kind>/<event>.');
  return actions.wrong(first as WrongKind, second);
}

function decode(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ActionError(400, 'A path segment is not valid percent-encoding.');
  }
}

/** What the page shows in its header and offers in its menus. */
function about(state: InspectorState) {
  return {
    production: state.start.production,
    allowRemote: state.allowRemote,
    toleranceMs: state.source.toleranceMs ?? null,
    limit: state.limit,
    samples: sampleNames(state.source),
    wrongKinds: WRONG_KINDS,
    eventNames: state.source.eventNames,
  };
}

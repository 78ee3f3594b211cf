import { isIP } from 'node:net';

// Who may use the inspector. It shows deliveries (customer messages, store data) and can send
// signed ones, so by default it answers only a browser on this machine, reached by a loopback
// name: a request from another address, through a proxy or tunnel (ngrok, a dev proxy), or for a
// host name that is not a loopback one (DNS rebinding) is refused, and the page's actions only
// accept requests the page itself makes (a custom header no cross-site form can send).

/** The header the page sends with each action: no other site's page can send it without CORS, which the inspector never grants. */
export const PAGE_HEADER = 'x-inspector-page';

/** Headers a proxy or tunnel adds: then the socket's loopback address says nothing about the client. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip'];

export interface ClientFacts {
  /** The socket's remote address, or what `clientAddress` (Fetch) said; `undefined` when unknown. */
  readonly address: string | undefined;
  /** The Host header. */
  readonly host: string | undefined;
  readonly header: (name: string) => string | undefined;
}

/** `127.0.0.0/8`, `::1` and the IPv4-mapped `::ffff:127.x.x.x`. */
export function isLoopbackAddress(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return isIP(plain) === 6 && /^(?:0{0,4}:){1,7}0{0,3}1$|^::1$/.test(plain);
}

/** `localhost`, `*.localhost`, a loopback IP, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  const lower = name.toLowerCase().replace(/\.$/, '');
  return lower === 'localhost' || lower.endsWith('.localhost') || (isIP(lower) !== 0 && isLoopbackAddress(lower));
}

/** Why this client may not use the inspector, or `undefined` when it may. */
export function refusal(client: ClientFacts, allowRemote: boolean): string | undefined {
  if (allowRemote) return undefined;
  const remedy = 'Pass { allowRemote: true } to webhooks.inspector() to open it to other clients.';
  if (client.address === undefined) {
    return `The inspector answers loopback clients only, and this server does not say where the request came from. Give webhooks.inspector({ clientAddress }) for the Fetch handler, or ${remedy.slice(0, 1).toLowerCase()}${remedy.slice(1)}`;
  }
  if (!isLoopbackAddress(client.address)) return `The inspector answers loopback clients only; this request came from ${client.address}. ${remedy}`;
  const proxied = PROXY_HEADERS.find((name) => client.header(name) !== undefined);
  if (proxied !== undefined) return `The inspector answers loopback clients only; this request came through a proxy or tunnel (${proxied}). ${remedy}`;
  if (client.host === undefined || !isLoopbackHost(client.host)) {
    return `The inspector answers requests for a loopback host name only (localhost, 127.0.0.1, [::1]); this one was for ${JSON.stringify(client.host ?? '')}. ${remedy}`;
  }
  return undefined;
}

/** Why this POST is not the page's own, or `undefined` when it is. */
export function actionRefusal(client: ClientFacts): string | undefined {
  if (client.header(PAGE_HEADER) !== '1') return `Actions are the page's own: the ${PAGE_HEADER} header is missing.`;
  const site = client.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return 'Actions are the page\'s own: this request came from another site.';
  const origin = client.header('origin');
  if (origin !== undefined && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== client.host) return 'Actions are the page\'s own: this request came from another origin.';
  }
  return undefined;
}

export interface StartFacts {
  /** `NODE_ENV=production`, and allowed to start anyway. */
  readonly production: boolean;
}

/** Throws under `NODE_ENV=production` unless `allowInProduction`. */
export function checkStart(allowInProduction: boolean): StartFacts {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['NODE_ENV'];
  const production = env === 'production';
  if (production && !allowInProduction) {
    throw new Error(
      'webhooks.inspector() refuses to start under NODE_ENV=production: it shows deliveries and sends signed ones. ' +
        'Mount it only in development, or pass { allowInProduction: true } if you mean it.',
    );
  }
  return { production };
}

import net from 'node:net';

// A client that writes exact bytes: no header validation, no framing, no retries. It is how a
// hostile or broken client looks to the server (lying Content-Length, raw header bytes, aborts).

/** One HTTP answer as it arrived on the wire. */
export interface RawResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A raw connection: write bytes, await the first answer, see whether the server hung up. */
export interface RawConnection {
  readonly socket: net.Socket;
  /** Resolves true when the bytes were handed to the kernel, false when the socket was already gone. */
  write(bytes: string | Uint8Array): Promise<boolean>;
  /** The first complete answer; rejects if the connection closes without one, or after `timeoutMs`. */
  response(timeoutMs?: number): Promise<RawResponse>;
  /** Resolves when the socket is closed (by either side). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  destroy(): void;
}

export async function connectRaw(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {}); // resets are expected here; `closed` reports them
  let received = Buffer.alloc(0);
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      ended = true;
      wake();
      resolve();
    }),
  );

  return {
    socket,
    closed,
    isClosed: () => ended,
    destroy: () => socket.destroy(),
    write: (bytes) =>
      new Promise((resolve) => {
        if (ended || socket.destroyed || !socket.writable) return resolve(false);
        socket.write(bytes, (error) => resolve(error == null));
      }),
    response: (timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const parsed = parseResponse(received, ended);
          if (parsed !== undefined) {
            done();
            resolve(parsed);
          } else if (ended) {
            done();
            reject(new Error(`connection closed without a complete answer (${received.length} bytes received)`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Sends `bytes` on a fresh connection and returns the first answer. */
export async function rawRequest(port: number, bytes: string | Uint8Array, timeoutMs?: number): Promise<RawResponse> {
  const connection = await connectRaw(port);
  try {
    await connection.write(bytes);
    return await connection.response(timeoutMs);
  } finally {
    connection.destroy();
  }
}

/** `POST path` with the given header lines and body, framed with an honest Content-Length unless one is given. */
export function rawPost(path: string, headers: readonly (readonly [string, string | Uint8Array])[], body: string | Uint8Array): Buffer {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  const lines: Buffer[] = [Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, 'latin1')];
  const hasLength = headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  for (const [name, value] of headers) {
    lines.push(Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value), Buffer.from('\r\n'));
  }
  if (!hasLength) lines.push(Buffer.from(`Content-Length: ${bodyBytes.length}\r\n`));
  lines.push(Buffer.from('\r\n'), bodyBytes);
  return Buffer.concat(lines);
}

function parseResponse(bytes: Buffer, ended: boolean): RawResponse | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null) throw new Error(`not an HTTP answer: ${statusLine.slice(0, 80)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const rest = bytes.subarray(headEnd + 4);
  const length = headers['content-length'];
  if (length !== undefined) {
    if (rest.length < Number(length)) return undefined;
    return { status: Number(match[1]), headers, body: rest.subarray(0, Number(length)).toString('utf8') };
  }
  if (headers['transfer-encoding'] !== undefined) throw new Error('chunked answers are not expected here');
  // No framing: the body runs to the end of the connection (Node's own 400/431 answers are empty).
  if (!ended) return undefined;
  return { status: Number(match[1]), headers, body: rest.toString('utf8') };
}

import http from 'node:http';

// Every bench server runs in a child process of its own: it listens on a free loopback port and
// answers the parent over IPC with its port, the handler runs it counted (so the parent can check
// that every 2xx was a handler run), the CPU time it used (which, unlike requests/s, does not
// depend on how much CPU the load generator got) and its memory.

export type Message =
  | { type: 'listening'; port: number }
  | { type: 'runs'; runs: number; cpuMicros: number }
  | { type: 'memory'; heapUsed: number; rss: number; maxRss: number };

export type Request = { type: 'runs' } | { type: 'memory'; gc: boolean } | { type: 'stop' };

const send = (message: Message): void => void process.send!(message);

/** CPU time this process has used, user and system, in µs. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Starts the listener that `build` makes, given the function to call once per handler run. */
export function serve(build: (ran: () => void) => http.RequestListener): void {
  let runs = 0;
  const server = http.createServer(build(() => void runs++));
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as { port: number }).port }));
  process.on('message', (request: Request) => {
    switch (request.type) {
      case 'runs':
        return send({ type: 'runs', runs, cpuMicros: cpuMicros() });
      case 'memory':
        if (request.gc) for (let i = 0; i < 3; i++) globalThis.gc?.();
        return send({ type: 'memory', heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 });
      case 'stop':
        server.closeAllConnections();
        server.close(() => process.exit(0));
    }
  });
}

export const OK_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': '17' } as const;
export const OK_BODY = '{"received":true}';

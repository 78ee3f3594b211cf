import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Message, Request } from './servers/serve.js';

/** A bench server in its own process, as the parent sees it. */
export interface ServerProcess {
  readonly url: string;
  /** Handler runs counted so far, and the CPU time (µs) the server has used. */
  runs(): Promise<{ runs: number; cpuMicros: number }>;
  memory(gc: boolean): Promise<{ heapUsed: number; rss: number; maxRss: number }>;
  stop(): Promise<void>;
}

function ask<Type extends Message['type']>(child: ChildProcess, request: Request, type: Type): Promise<Extract<Message, { type: Type }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Message): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<Message, { type: Type }>);
    };
    const onExit = (code: number | null): void => reject(new Error(`bench server exited (${code}) before answering '${request.type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(request);
  });
}

/** Starts the compiled `servers/<name>.js` beside this file (bench/.build, `npm run bench` builds it) and waits until it listens. */
export async function startServer(name: string): Promise<ServerProcess> {
  if (!import.meta.url.endsWith('.js')) throw new Error('run the compiled bench (npm run bench): its servers run as JavaScript, as users run them');
  const file = fileURLToPath(new URL(`./servers/${name}.js`, import.meta.url));
  const child = fork(file, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [listening] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`bench server ${name} exited with ${String(code)}`))),
  ])) as [Message];
  if (listening.type !== 'listening') throw new Error(`bench server ${name} said ${listening.type} first`);
  return {
    url: `http://127.0.0.1:${listening.port}/webhooks`,
    runs: async () => {
      const { runs, cpuMicros } = await ask(child, { type: 'runs' }, 'runs');
      return { runs, cpuMicros };
    },
    memory: async (gc) => ask(child, { type: 'memory', gc }, 'memory'),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' } satisfies Request);
      await exited;
    },
  };
}

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Message, Request } from './servers/serve.js';
import type { WorkerMessage, WorkerRequest } from './workers/drain.js';

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

/**
 * The compiled `<dir>/<name>.js` beside this file (bench/.build/bench, `npm run bench` builds it),
 * or in another build of the bench (`--baseline`), forked with `args`.
 */
export function forkCompiled(dir: 'servers' | 'workers', name: string, args: readonly string[], benchDir: URL = new URL('./', import.meta.url)): ChildProcess {
  if (!import.meta.url.endsWith('.js')) throw new Error('run the compiled bench (npm run bench): its servers run as JavaScript, as users run them');
  const file = fileURLToPath(new URL(`./${dir}/${name}.js`, benchDir));
  return fork(file, args, { execArgv: ['--expose-gc', ...cpuProfile(name)], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * `BENCH_CPU_PROF=<name>,…` writes a V8 CPU profile of those children to bench/profiles/ (open one
 * in Chrome DevTools), sampled every 100 µs: a request costs tens of µs, so the default 1 ms is too coarse.
 */
function cpuProfile(name: string): string[] {
  const names = process.env['BENCH_CPU_PROF']?.split(',') ?? [];
  if (!names.includes(name)) return [];
  return ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${fileURLToPath(new URL('../../profiles', import.meta.url))}`];
}

/** Starts the compiled `servers/<name>.js` (given `args`) and waits until it listens. */
export async function startServer(name: string, args: readonly string[] = [], benchDir?: URL): Promise<ServerProcess> {
  const child = forkCompiled('servers', name, args, benchDir);
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

/** A bench worker in its own process (workers/drain.ts), as the parent sees it. */
export interface WorkerProcess {
  /** Makes a new connection and worker, not yet running. */
  prepare(): Promise<void>;
  /** Runs the worker until `jobs` jobs are done: wall time and the worker process's CPU time. */
  drain(jobs: number): Promise<{ ms: number; cpuMicros: number; completed: number; failed: number }>;
  stop(): Promise<void>;
}

function next<Type extends WorkerMessage['type']>(child: ChildProcess, type: Type, request?: WorkerRequest): Promise<Extract<WorkerMessage, { type: Type }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<WorkerMessage, { type: Type }>);
    };
    const onExit = (code: number | null): void => reject(new Error(`bench worker exited (${code}) before it said '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (request !== undefined) child.send(request);
  });
}

/** Starts the compiled `workers/<name>.js` (given `args`) and waits until it is ready. */
export async function startWorker(name: string, args: readonly string[]): Promise<WorkerProcess> {
  const child = forkCompiled('workers', name, args);
  await next(child, 'ready');
  return {
    prepare: async () => void (await next(child, 'prepared', { type: 'prepare' })),
    drain: async (jobs) => {
      const { ms, cpuMicros, completed, failed } = await next(child, 'drained', { type: 'drain', jobs });
      return { ms, cpuMicros, completed, failed };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' } satisfies WorkerRequest);
      await exited;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { vi } from 'vitest';
import { root } from './paths.js';

const tsx = createRequire(import.meta.url).resolve('tsx/cli');

/** What a child process printed so far, and how it ended. */
export interface Output {
  stdout: string;
  stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly output: Output;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Runs `examples/<file>` with tsx the way `npm run demo` does: `examples/tsconfig.json` has no
 * `paths`, so 'aicommerce-webhooks' resolves through the package's exports to the built dist/.
 */
export function runExample(file: string, env: Record<string, string> = {}): Running {
  return runCommand(process.execPath, [tsx, '--tsconfig', 'examples/tsconfig.json', `examples/${file}`], env);
}

/**
 * Runs a command from the repository's root in a process group of its own, so that stopping it
 * also ends what it started (wrangler runs workerd as a child).
 */
export function runCommand(command: string, args: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: Output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM'); // the group this spawn created, and nothing else
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}

/**
 * Waits for the example's `Listening on <url>` line (it was started with PORT=0) and gives the URL;
 * fails at once if the process ends first. vi.waitFor, not expect.poll: hooks call this too.
 */
export async function listeningUrl(running: Running, timeoutMs = 15_000, line = /Listening on (\S+)/): Promise<string> {
  return printed(running, line, timeoutMs);
}

/**
 * Waits until the process printed a line matching `pattern` on stdout, and gives its first group;
 * fails at once if the process ends first, with what it wrote to stderr.
 */
export async function printed(running: Running, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const found = await vi.waitFor(
    () => {
      const match = pattern.exec(running.output.stdout);
      if (match === null && running.child.exitCode === null) throw new Error(`nothing matched ${pattern} after ${timeoutMs} ms:\n${running.output.stderr}`);
      return match?.[1] ?? match?.[0];
    },
    { timeout: timeoutMs, interval: 25 },
  );
  if (found === undefined) throw new Error(`exited with ${running.child.exitCode} before printing ${pattern}:\n${running.output.stderr}`);
  return found;
}

/** The `data` an example logged for `event` (`<event> <json>` lines), parsed. */
export function loggedData(stdout: string, event: string): unknown {
  const line = stdout.split('\n').find((l) => l.startsWith(`${event} `));
  return line === undefined ? undefined : JSON.parse(line.slice(event.length + 1));
}

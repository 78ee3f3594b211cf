import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { root } from './paths.js';

// The CLI as the tests run it: in-process through runCli (argv, streams and env in, exit code
// out), and as the built bin (`node dist/cli.js`) the way a user's shell runs it.

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process. `stdin` is piped unless `tty` says a terminal is attached. */
export async function cli(
  argv: string[],
  { stdin = '', env = {}, tty = false }: { stdin?: string | Buffer; env?: Record<string, string>; tty?: boolean } = {},
): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const input = Object.assign(Readable.from([Buffer.from(stdin)]), { isTTY: tty });
  const code = await runCli(argv, {
    stdin: input,
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
    env,
  });
  return { code, ...out };
}

/** Runs the built bin as a user's shell would: only PATH and `env` in its environment. */
export function bin(argv: string[], { stdin = '', env = {}, cwd = root }: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...argv], { cwd, env: { PATH: process.env['PATH'] ?? '', ...env } });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, ...out }));
    child.stdin.end(stdin);
  });
}

/**
 * Runs the built bin with its stdout closed by the reader before the bin writes a byte (what
 * `| head -0` or a consumer that has gone does): every write of the bin fails with EPIPE.
 */
export function binWithOutputClosed(
  argv: string[],
  { stdin = '', env = {} }: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...argv], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env } });
    child.stdout.destroy(); // the read end is closed now, long before node has started in the child
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
    child.stdin.end(stdin);
  });
}

/** Runs `node dist/cli.js <argv> | <reader>` in bash with pipefail, so the status is the bin's unless the reader fails. */
export function binPipedInto(reader: string, argv: string[], env: Record<string, string> = {}): Promise<Run> {
  const quoted = argv.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    // --norc: bash reads ~/.bashrc when its stdin is a socket, as a pipe from node is.
    const child = spawn('bash', ['--norc', '--noprofile', '-o', 'pipefail', '-c', `"${process.execPath}" dist/cli.js ${quoted} | ${reader}`], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, ...out }));
  });
}

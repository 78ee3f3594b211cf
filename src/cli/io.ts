import { readFile } from 'node:fs/promises';

/** What a command may touch, so tests can run it in-process: `process` itself fits. */
export interface CliIo {
  readonly stdin: AsyncIterable<Uint8Array> & { readonly isTTY?: boolean | undefined };
  /** `writable` turns false once the reader has gone (`… | head -1`): a long listing stops there. */
  readonly stdout: { write(text: string): unknown; readonly writable?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  readonly usage: string;
  /** Resolves with the exit code; throws `UsageError` for a bad invocation (exit 2). */
  run(args: string[], io: CliIo): Promise<number>;
}

/** A bad invocation: the message and the command's usage go to stderr, and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command could not do its job (Redis unreachable, no such job …): the message goes to stderr, and the exit code is 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * A reader that stops early (\`… | head -1\`) closes the pipe, and every later write fails with
 * EPIPE: that output had nowhere to go, which is no error. The command runs on, quietly, and
 * exits with its own status. Any other stream error is thrown as Node would have.
 */
export function quietWhenOutputCloses(stream: NodeJS.EventEmitter): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

export const SECRET_ENV = 'AICOMMERCE_WEBHOOK_SECRET';

/** `--help`: the usage on stdout, exit 0. */
export function printHelp(io: CliIo, usage: string): number {
  io.stdout.write(usage);
  return 0;
}

/** The option every command takes. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** Runs `util.parseArgs` (strict), turning its errors (unknown option, missing value …) into usage errors. */
export function parseOrUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message); // parseArgs throws TypeErrors with a clear message
  }
}

/** The `--secret` value(s), else the environment's; never empty. */
export function secretsFrom(given: string | string[] | undefined, env: CliIo['env']): string[] {
  const secrets = (given === undefined ? [env[SECRET_ENV]] : [given].flat()).filter((s): s is string => s !== undefined);
  if (secrets.length === 0) throw new UsageError(`no secret: pass --secret or set ${SECRET_ENV}`);
  if (secrets.some((s) => s === '')) throw new UsageError('the secret is empty');
  return secrets;
}

/** The exact bytes of a file, or of stdin for `-` (or no file at all, when stdin is piped). */
export async function readInput(source: string | undefined, io: CliIo): Promise<Buffer> {
  if (source === undefined || source === '-') {
    if (source === undefined && io.stdin.isTTY === true) throw new UsageError('no body: give a file, or pipe it on stdin');
    const chunks: Uint8Array[] = [];
    for await (const chunk of io.stdin) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(source);
  } catch (error) {
    throw new UsageError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** At most one positional argument: the file to read. */
export function fileArgument(positionals: readonly string[]): string | undefined {
  if (positionals.length > 1) throw new UsageError(`expected at most one file, got ${positionals.length}`);
  return positionals[0];
}

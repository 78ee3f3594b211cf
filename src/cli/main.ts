import { CliError, UsageError, type CliIo, type Command } from './io.js';
import { queue } from './queue.js';
import { schema } from './schema.js';
import { send } from './send.js';
import { sign } from './sign.js';
import { verify } from './verify.js';

const COMMANDS: readonly Command[] = [send, sign, verify, queue, schema];

const USAGE = `Usage: aicommerce-webhooks <command> [options]

Sign, verify and send AICommerce webhook deliveries; inspect and retry the queued ones; print
the events' contract (OpenAPI, JSON Schema).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)}${c.summary}`).join('\n')}

Run 'aicommerce-webhooks <command> --help' for a command's options. send, sign and verify take
the secret from --secret or, better (it stays out of the process list), AICOMMERCE_WEBHOOK_SECRET;
queue takes Redis from --redis or REDIS_URL.

Exit status: 0 success, 1 not delivered / invalid signature / a queue command failed / a file
not written, 2 usage error.
`;

/** Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  const asksHelp = first === 'help'; // `help <command>` is `<command> --help`
  const name = asksHelp ? rest[0] : first;
  if (name === '--help' || name === '-h' || (asksHelp && name === undefined)) {
    io.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`${name === undefined ? 'missing <command>' : `unknown command '${name}'`}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(asksHelp ? ['--help'] : rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`aicommerce-webhooks ${command.name}: ${error.message}\n`);
      return 1;
    }
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`aicommerce-webhooks ${command.name}: ${error.message}\n\n${command.usage}`);
    return 2;
  }
}

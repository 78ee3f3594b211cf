import { parseArgs } from 'node:util';
import { signPayload } from '../signature.js';
import { fileArgument, HELP_OPTION, parseOrUsage, printHelp, readInput, secretsFrom, SECRET_ENV, type Command } from './io.js';

export const sign: Command = {
  name: 'sign',
  summary: 'print the x-webhook-signature value of a body',
  usage: `Usage: aicommerce-webhooks sign [--secret <secret>] [file|-]

Prints the x-webhook-signature header value (sha256=<hex>) of the exact bytes of the file, or of
stdin when the file is - or left out. Nothing is trimmed: a trailing newline is signed too.

Options:
  --secret <secret>  the signing secret (default: $${SECRET_ENV})
  -h, --help         show this help
`,
  async run(args, io) {
    const { values, positionals } = parseOrUsage(() =>
      parseArgs({ args, options: { ...HELP_OPTION, secret: { type: 'string' } }, allowPositionals: true, strict: true }),
    );
    if (values.help === true) return printHelp(io, this.usage);
    const file = fileArgument(positionals);
    const [secret] = secretsFrom(values.secret, io.env);
    io.stdout.write(`${signPayload(await readInput(file, io), secret!)}\n`);
    return 0;
  },
};


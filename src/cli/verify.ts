import { parseArgs } from 'node:util';
import { verifyWebhookSignature } from '../signature.js';
import { fileArgument, HELP_OPTION, parseOrUsage, printHelp, readInput, secretsFrom, SECRET_ENV, UsageError, type Command } from './io.js';

export const verify: Command = {
  name: 'verify',
  summary: 'check a body against an x-webhook-signature value',
  usage: `Usage: aicommerce-webhooks verify --signature <sha256=hex> [--secret <secret>]... [file|-]

Checks the signature against the exact bytes of the file, or of stdin when the file is - or
left out, the way the receiver does. Prints "valid" or "invalid".

Options:
  --signature <value>  the x-webhook-signature header value
  --secret <secret>    the signing secret (default: $${SECRET_ENV}); repeat it
                       to accept any of several, as while rotating secrets
  -h, --help           show this help

Exit status: 0 valid, 1 invalid, 2 usage error.
`,
  async run(args, io) {
    const { values, positionals } = parseOrUsage(() =>
      parseArgs({
        args,
        options: { ...HELP_OPTION, secret: { type: 'string', multiple: true }, signature: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      }),
    );
    if (values.help === true) return printHelp(io, this.usage);
    const file = fileArgument(positionals);
    if (values.signature === undefined) throw new UsageError('missing --signature');
    const secrets = secretsFrom(values.secret, io.env);
    const valid = verifyWebhookSignature(await readInput(file, io), values.signature, secrets);
    io.stdout.write(valid ? 'valid\n' : 'invalid\n');
    return valid ? 0 : 1;
  },
};

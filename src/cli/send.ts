import { parseArgs } from 'node:util';
import { eventSchemas, type EventName } from '../events.js';
import { sampleEvents } from '../testing/samples.js';
import { createTestSender, type Attempt, type DeliveryReport } from '../testing/sender.js';
import { HELP_OPTION, parseOrUsage, printHelp, readInput, secretsFrom, SECRET_ENV, UsageError, type CliIo, type Command } from './io.js';

const EVENTS = Object.keys(eventSchemas) as EventName[];
const isKnown = (name: string): name is EventName => (EVENTS as string[]).includes(name);

export const send: Command = {
  name: 'send',
  summary: 'sign and deliver one event to a URL, retrying like AICommerce',
  usage: `Usage: aicommerce-webhooks send <event> --url <url> [--secret <secret>] [--data <file|->]
                                [--retries <n>] [--base-delay <ms>]

Signs one delivery of <event> and POSTs it to the URL the way AICommerce does: on anything but a
2xx it retries, waiting base-delay × 2^(n−1) (±20 %) before retry n. Prints every attempt.

Options:
  --url <url>         the webhook endpoint (http or https)
  --secret <secret>   the signing secret (default: $${SECRET_ENV})
  --data <file|->     the event's data as JSON, from a file or stdin (-). Default: a sample
                      payload of <event>. With --data, <event> may be a name of your own.
  --retries <n>       retries after the first attempt (default 3)
  --base-delay <ms>   the wait before the first retry (default 1000)
  -h, --help          show this help

Events: ${EVENTS.slice(0, 3).join(', ')},
        ${EVENTS.slice(3).join(', ')}

Exit status: 0 delivered (an attempt got a 2xx), 1 not delivered, 2 usage error.
`,
  async run(args, io) {
    const { values, positionals } = parseOrUsage(() =>
      parseArgs({
        args,
        options: {
          ...HELP_OPTION,
          url: { type: 'string' },
          secret: { type: 'string' },
          data: { type: 'string' },
          retries: { type: 'string', default: '3' },
          'base-delay': { type: 'string', default: '1000' },
        },
        allowPositionals: true,
        strict: true,
      }),
    );
    if (values.help === true) return printHelp(io, this.usage);
    const [event, ...extra] = positionals;
    if (event === undefined) throw new UsageError('missing <event>');
    if (extra.length > 0) throw new UsageError(`expected one event, got ${positionals.length}`);
    if (values.data === undefined && !isKnown(event)) {
      throw new UsageError(`unknown event '${event}': give --data to send an event of your own`);
    }
    const url = httpUrl(values.url);
    const [secret] = secretsFrom(values.secret, io.env);
    const retries = wholeNumber('--retries', values.retries);
    const baseDelayMs = wholeNumber('--base-delay', values['base-delay']);
    const data = values.data === undefined ? sampleEvents[event as EventName] : json(await readInput(values.data, io));

    const aicommerce = createTestSender({ retries, baseDelayMs });
    await aicommerce.webhooks.create({ url, events: [event], secret: secret! });
    io.stdout.write(`POST ${event} to ${url} (up to ${retries + 1} attempt${retries === 0 ? '' : 's'})\n`);
    const [report] = await aicommerce.send(event, data);
    printReport(report!, io);
    return report!.delivered ? 0 : 1;
  },
};

function printReport({ attempts, delivered }: DeliveryReport, io: CliIo): void {
  for (const [index, attempt] of attempts.entries()) {
    io.stdout.write(`  attempt ${index + 1}  at +${attempt.at} ms  ${describeAnswer(attempt)}  (${attempt.ms} ms)\n`);
  }
  const count = attempts.length;
  io.stdout.write(delivered ? `delivered on attempt ${count}\n` : `not delivered after ${count} attempt${count === 1 ? '' : 's'}\n`);
}

function httpUrl(value: string | undefined): string {
  if (value === undefined) throw new UsageError('missing --url');
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new UsageError(`--url must be an http(s) URL, got '${value}'`);
  return value;
}

function wholeNumber(option: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${option} must be a whole number ≥ 0, got '${value}'`);
  return Number(value);
}

function json(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UsageError('--data is not valid JSON');
  }
}

/** `200 received`, `202 queued`, `401 invalid_signature: Invalid signature`, `no answer (ECONNREFUSED)`. */
function describeAnswer({ status, response, error }: Attempt): string {
  if (status === null) return `no answer (${error ?? 'unknown error'})`;
  const body = (typeof response === 'object' && response !== null ? response : {}) as Record<string, unknown>;
  const outcome = ['queued', 'duplicate', 'superseded', 'ignored'].find((name) => body[name] === true) ?? (body['received'] === true ? 'received' : undefined);
  if (outcome !== undefined) return `${status} ${outcome}`;
  const { code, error: message } = body;
  if (typeof code !== 'string') return String(status);
  return typeof message === 'string' ? `${status} ${code}: ${message.replace(/\s+/g, ' ').trim()}` : `${status} ${code}`;
}

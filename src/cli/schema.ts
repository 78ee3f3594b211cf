import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { builtInDeliverySchemas } from '../describe/built-in.js';
import { eventsDocument } from '../describe/events-document.js';
import { deliveryJsonSchemas } from '../describe/json-schema.js';
import { DEFAULT_SETTINGS, openAPIDocument } from '../describe/openapi.js';
import { CliError, HELP_OPTION, parseOrUsage, printHelp, UsageError, type Command } from './io.js';

const FORMATS = ['openapi', 'json-schema'] as const;
type Format = (typeof FORMATS)[number];

/** The document of a format, as the file docs/ holds it: two-space JSON and a final newline. */
export function schemaDocument(format: Format): string {
  const schemas = builtInDeliverySchemas();
  const document = format === 'openapi' ? openAPIDocument(schemas, DEFAULT_SETTINGS) : eventsDocument(deliveryJsonSchemas(schemas));
  return `${JSON.stringify(document, null, 2)}\n`;
}

export const schema: Command = {
  name: 'schema',
  summary: 'print the event contract as OpenAPI 3.1 or JSON Schema',
  usage: `Usage: aicommerce-webhooks schema [--format openapi|json-schema] [--out <file>]

Prints the contract of the AICommerce events, generated from this package's zod schemas: an
OpenAPI 3.1 document with one webhook per event (the signature header, the body, the answers),
or one JSON Schema 2020-12 document that accepts a delivery of any event (each under $defs).
For your own schemas, call webhooks.toOpenAPI() or webhooks.toJSONSchema() instead.

Options:
  --format <format>  openapi (default) or json-schema
  --out <file>       write the document to a file instead of stdout
  -h, --help         show this help

Exit status: 0 written, 1 the file could not be written, 2 usage error.
`,
  async run(args, io) {
    const { values } = parseOrUsage(() =>
      parseArgs({ args, options: { ...HELP_OPTION, format: { type: 'string', default: 'openapi' }, out: { type: 'string' } }, strict: true }),
    );
    if (values.help === true) return printHelp(io, this.usage);
    const format = values.format;
    if (!isFormat(format)) throw new UsageError(`--format must be ${FORMATS.join(' or ')}, got '${format}'`);
    const text = schemaDocument(format);
    if (values.out === undefined) {
      io.stdout.write(text);
      return 0;
    }
    try {
      await writeFile(values.out, text);
    } catch (error) {
      throw new CliError(`cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    return 0;
  },
};

const isFormat = (value: string): value is Format => (FORMATS as readonly string[]).includes(value);

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// A standard JSON Schema validator, independent of zod: Ajv in the 2020-12 dialect, strict (an
// unknown keyword or a type-less `properties` in a generated schema is an error), with the
// standard formats asserted (`date`, `date-time` …), as a consumer of our documents would run it.

const addFormats = addFormatsModule.default;

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

/** The fields of an OpenAPI document around its schemas: known to Ajv, so strict mode lets them be. */
const OPENAPI_FIELDS = ['openapi', 'info', 'externalDocs', 'webhooks', 'paths', 'components'];

/**
 * A validator for any schema inside an OpenAPI 3.1 document, found by its JSON Pointer
 * (`#/webhooks/chat.message.received/post/…/schema`); `$ref`s into `components` resolve.
 */
export function openApiValidator(document: object): (pointer: string) => ValidateFunction {
  const ajv = createAjv();
  for (const field of OPENAPI_FIELDS) ajv.addKeyword(field);
  const id = 'https://aicommerce-webhooks.test/openapi.json';
  ajv.addSchema({ ...document, $id: id });
  return (pointer) => {
    const validate = ajv.getSchema(`${id}${pointer}`);
    if (validate === undefined) throw new Error(`no schema at ${pointer}`);
    return validate;
  };
}

/** `['webhooks', 'a/b', …]` → `#/webhooks/a~1b/…` (RFC 6901). */
export const pointerTo = (...segments: string[]): string =>
  `#${segments.map((s) => `/${encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('')}`;

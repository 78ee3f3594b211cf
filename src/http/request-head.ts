import { parse as parseContentType } from 'content-type';
import { methodNotAllowed, unsupportedMediaType, type WebhookError } from '../errors.js';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/** 405 for a method other than POST, 415 for a body that is not plain UTF-8 JSON: checked before a byte of the body is read. */
export function checkRequestHead(method: string | undefined, contentType: unknown, contentEncoding: unknown): WebhookError | undefined {
  if (method !== 'POST') return methodNotAllowed();
  // The exact value AICommerce sends needs no parsing (this runs for every request).
  if (contentType !== 'application/json') {
    // Read by `content-type`, as Express and body-parser read it (type and parameter names lower-cased).
    const parsed = typeof contentType === 'string' ? parseContentType(contentType) : undefined;
    if (parsed === undefined || !JSON_MEDIA_TYPE.test(parsed.type)) {
      return unsupportedMediaType('Unsupported Content-Type: send application/json', { accept: 'application/json' });
    }
    const charset = parsed.parameters['charset']?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return unsupportedMediaType('Unsupported charset: send UTF-8 JSON');
  }
  const encoding = typeof contentEncoding === 'string' ? contentEncoding.trim().toLowerCase() : undefined;
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    // Inflating would let a small request expand into a huge body; AICommerce sends identity.
    return unsupportedMediaType('Unsupported Content-Encoding: send the body uncompressed');
  }
  return undefined;
}

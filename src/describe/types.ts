import type { JsonSchema } from './json-schema.js';

// The parts of OpenAPI 3.1 that `toOpenAPI()` writes, typed as far as a reader of the result needs.

/** `toOpenAPI()` options. */
export interface OpenAPIOptions {
  /**
   * Also describe the endpoint itself, `paths[path].post`, whose body is a delivery of any event.
   * Default: the receiver's `path` option; without either, only `webhooks` are described.
   */
  path?: string | undefined;
  /** `info.title`. Default `'AICommerce webhooks'`. */
  title?: string | undefined;
  /** `info.version`, the version of this contract. Default: this package's version. */
  version?: string | undefined;
}

/** One media type of a body or an answer: its JSON Schema and named examples. */
export interface OpenAPIMediaType {
  schema: JsonSchema;
  examples?: Record<string, { summary?: string; description?: string; value: unknown }>;
}

/** One answer of a webhook operation: what it means (with the `code`s it may carry), its headers, its body. */
export interface OpenAPIResponse {
  description: string;
  headers?: Record<string, { description: string; required: boolean; schema: JsonSchema }>;
  content: Record<string, OpenAPIMediaType>;
}

/** A header parameter: the `x-webhook-signature` header every delivery carries. */
export interface OpenAPIParameter {
  name: string;
  in: 'header';
  required: boolean;
  description: string;
  schema: JsonSchema;
  example?: string;
}

/** The `post` operation of one event (or of the endpoint): the signature header, the body schema and the answers. */
export interface OpenAPIOperation {
  operationId: string;
  summary: string;
  description: string;
  parameters: ({ $ref: string } | OpenAPIParameter)[];
  requestBody: { description: string; required: true; content: Record<string, OpenAPIMediaType> };
  responses: Record<string, OpenAPIResponse>;
  security: Record<string, string[]>[];
}

/** An OpenAPI 3.1 document: one `webhooks` entry per event, and `paths[path]` when a path is known. */
export interface OpenAPIDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  externalDocs: { description: string; url: string };
  webhooks: Record<string, { post: OpenAPIOperation }>;
  paths?: Record<string, { post: OpenAPIOperation }>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, OpenAPIParameter>;
  };
}

import { envelopeSchemaFor, eventSchemas } from '../events.js';
import type { DeliverySchemas } from './json-schema.js';

/** The whole-delivery schemas of the built-in events, as a receiver without `schemas` builds them. */
export function builtInDeliverySchemas(): DeliverySchemas {
  return new Map(Object.entries(eventSchemas).map(([name, data]) => [name, { schema: envelopeSchemaFor(name, data) }]));
}

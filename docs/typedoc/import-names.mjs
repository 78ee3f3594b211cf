// Names each module of the API reference by the path users import it from
// ('aicommerce-webhooks/redis'), not by its source file ('stores/redis').
import { Converter, ReflectionKind } from 'typedoc';

const importNames = {
  index: 'aicommerce-webhooks',
  testing: 'aicommerce-webhooks/testing',
  'stores/redis': 'aicommerce-webhooks/redis',
  'queue/bullmq': 'aicommerce-webhooks/bullmq',
  'http/fastify': 'aicommerce-webhooks/fastify',
  'http/koa': 'aicommerce-webhooks/koa',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = importNames[module.name];
      if (name === undefined) throw new Error(`the API reference has a module with no import name: ${module.name} (add it to docs/typedoc/import-names.mjs)`);
      module.name = name;
    }
  });
}

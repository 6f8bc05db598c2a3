/**
 * Fastify's own schema compilers (ajv for validation, fast-json-stringify for serialization),
 * loaded when a route first declares a JSON schema rather than when a server is created.
 * Fastify requires both for every server it builds unless it is handed factories; the
 * components validate with zod and declare no route schema, so each process otherwise
 * carried ajv and its formats (some 200 modules, 3.5 MB of heap, 4 MiB of RSS) unused.
 * A route that does declare a schema gets the very compilers fastify would have used.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>;
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>;

// Resolved from fastify's own location: the compiler versions its dependencies pin.
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

type Factory = (...args: unknown[]) => unknown;

/** A factory that loads `module` (whose export makes the factory) on its first call. */
function loadedOnFirstCall(module: string): Factory {
  let factory: Factory | undefined;
  return (...args) => {
    factory ??= (requireFromFastify(module) as () => Factory)();
    return factory(...args);
  };
}

/** The compiler factories for `schemaController.compilersFactory`. */
export function lazySchemaCompilers(): {
  buildValidator: ValidatorFactory;
  buildSerializer: SerializerFactory;
} {
  return {
    buildValidator: loadedOnFirstCall('@fastify/ajv-compiler') as ValidatorFactory,
    buildSerializer: loadedOnFirstCall('@fastify/fast-json-stringify-compiler') as SerializerFactory,
  };
}

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createHttpServer } from './http-server.js';
import { createMetrics } from './metrics.js';
import { silentLogger } from './logger.js';

const loaded = (name: string) =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes(`/node_modules/${name}/`));

describe('schema compilers', () => {
  // One test, in order: the module cache is the process's.
  it('load only once a route declares a JSON schema, which then validates and serializes as before', async () => {
    const plain = createHttpServer({
      logger: silentLogger(),
      metrics: createMetrics('plain', { defaultMetrics: false }),
    });
    plain.get('/work', async () => ({ done: true }));
    expect((await plain.inject('/work')).json()).toEqual({ done: true });
    expect(loaded('ajv')).toBe(false);
    expect(loaded('@fastify/fast-json-stringify-compiler')).toBe(false);
    await plain.close();

    const server = createHttpServer({
      logger: silentLogger(),
      metrics: createMetrics('schemas', { defaultMetrics: false }),
    });
    server.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          response: { 200: { type: 'object', properties: { name: { type: 'string' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), secret: 'not serialized' }),
    );
    expect((await server.inject({ method: 'POST', url: '/echo', payload: {} })).statusCode).toBe(400);
    const ok = await server.inject({ method: 'POST', url: '/echo', payload: { name: 'x' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ name: 'x' });
    expect(loaded('ajv')).toBe(true);
    expect(loaded('@fastify/fast-json-stringify-compiler')).toBe(true);
    await server.close();
  });
});

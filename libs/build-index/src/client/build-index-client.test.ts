import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { digestOf } from '@kraken/oci-content';
import { createBuildIndexClient } from './build-index-client.js';
import { TagRejectedError } from '../errors.js';
import type { BuildIndexClient } from './client-types.js';
import { RemoteApiError, ServiceUnreachableError } from '@kraken/service-kit';

let server: FastifyInstance | undefined;
let client: BuildIndexClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** A stub build-index whose routes the test defines. */
async function stub(define: (app: FastifyInstance) => void): Promise<BuildIndexClient> {
  server = Fastify({ routerOptions: { maxParamLength: 1024 } });
  define(server);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  client = createBuildIndexClient({ url });
  return client;
}

describe('build-index client', () => {
  it('sends the repository as one encoded path segment and the page as a query', async () => {
    const seen: string[] = [];
    const c = await stub((app) => {
      app.get('/v1/repositories/:repo/tags', async (request) => {
        seen.push(request.url, (request.params as { repo: string }).repo);
        return { tags: ['a'] };
      });
    });
    expect(await c.listTags('library/ubuntu', { n: 5, last: 'v1' })).toEqual(['a']);
    expect(seen).toEqual(['/v1/repositories/library%2Fubuntu/tags?n=5&last=v1', 'library/ubuntu']);
  });

  it('rejects responses that do not match the contract', async () => {
    const c = await stub((app) => {
      app.get('/v1/repositories/:repo/tags/:tag', async () => ({ digest: 'not-a-digest' }));
      app.get('/v1/repositories', async () => ({ repos: [] }));
    });
    await expect(c.getTag('app', 'v1')).rejects.toThrow(/invalid digest|malformed/);
    const err = await c.listRepositories().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteApiError);
    expect((err as RemoteApiError).code).toBe('KRAKEN_INVALID_RESPONSE');
  });

  it('maps a 409 refusal to TagRejectedError with the missing digests', async () => {
    const missing = [digestOf('a').value, digestOf('b').value];
    const c = await stub((app) => {
      app.put('/v1/repositories/:repo/tags/:tag', async (_request, reply) =>
        reply
          .code(409)
          .send({ error: { code: 'KRAKEN_TAG_REJECTED', message: 'missing', detail: { missing } } }),
      );
    });
    const err = await c.putTag('app', 'v1', digestOf('m')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagRejectedError);
    expect((err as TagRejectedError).missing).toEqual(missing);
  });

  it('treats 404 from a write route as an error, not as "not found"', async () => {
    const c = await stub(() => {});
    await expect(c.putTag('app', 'v1', digestOf('m'))).rejects.toMatchObject({ code: 'KRAKEN_HTTP_404' });
    await expect(c.listRepositories()).rejects.toMatchObject({ code: 'KRAKEN_HTTP_404' });
    expect(await c.getTag('app', 'v1')).toBeUndefined();
    expect(await c.deleteManifest('app', digestOf('m'))).toBe(false);
  });

  it('keeps server errors typed with their code', async () => {
    const c = await stub((app) => {
      app.get('/v1/repositories/:repo/manifests/:digest', async (_request, reply) =>
        reply.code(500).send({ error: { code: 'KRAKEN_INTERNAL', message: 'internal error' } }),
      );
    });
    await expect(c.getManifest('app', digestOf('m'))).rejects.toMatchObject({
      code: 'KRAKEN_INTERNAL',
      statusCode: 500,
    });
  });

  it('pings /readiness', async () => {
    let ready = true;
    const c = await stub((app) => {
      app.get('/readiness', async (_request, reply) => reply.code(ready ? 200 : 503).send({ ready }));
    });
    await expect(c.ping()).resolves.toBeUndefined();
    ready = false;
    await expect(c.ping()).rejects.toMatchObject({ code: 'KRAKEN_NOT_READY' });
  });

  it('reports an unreachable build-index as ServiceUnreachableError', async () => {
    const c = await stub(() => {});
    const { port } = server!.server.address() as AddressInfo;
    await server!.close();
    server = undefined;
    await c.close();
    client = createBuildIndexClient({ url: `http://127.0.0.1:${port}` });
    await expect(client.getTag('app', 'v1')).rejects.toBeInstanceOf(ServiceUnreachableError);
  });

  it('honours an abort signal', async () => {
    const c = await stub((app) => {
      app.get('/v1/repositories/:repo/tags/:tag', () => new Promise(() => {}));
    });
    const controller = new AbortController();
    const pending = c.getTag('app', 'v1', controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await expect(pending).rejects.not.toBeInstanceOf(ServiceUnreachableError);
  });
});

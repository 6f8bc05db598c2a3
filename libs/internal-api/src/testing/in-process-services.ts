/**
 * An origin and a build-index running in this process on ephemeral loopback ports,
 * with filesystem storage under a temporary directory: the backing services that
 * proxy and agent tests talk to over real HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpServer, createMetrics, silentLogger } from '@kraken/service-kit';
import { createContentStore, createFilesystemBackend } from '@kraken/storage-backends';
import { createBuildIndexRoutes } from '../build-index-routes.js';
import { createOriginClient } from '../origin-client.js';
import { createOriginRoutes } from '../origin-routes.js';

export interface InProcessServices {
  readonly dir: string;
  readonly originUrl: string;
  readonly buildIndexUrl: string;
  close(): Promise<void>;
}

export async function startInProcessServices(): Promise<InProcessServices> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-services-'));
  const logger = silentLogger();

  const originBackend = createFilesystemBackend({ root: join(dir, 'origin') });
  const origin = createHttpServer({ logger, metrics: createMetrics('origin', { defaultMetrics: false }) });
  origin.register(
    createOriginRoutes({
      store: createContentStore({ backend: originBackend }),
      uploadsDir: join(dir, 'origin-uploads'),
      logger,
      metrics: createMetrics('origin_routes', { defaultMetrics: false }),
    }),
  );
  const originUrl = await origin.listen({ host: '127.0.0.1', port: 0 });

  const originClient = createOriginClient({ url: originUrl });
  const buildIndexBackend = createFilesystemBackend({ root: join(dir, 'build-index') });
  const buildIndex = createHttpServer({
    logger,
    metrics: createMetrics('build_index', { defaultMetrics: false }),
  });
  buildIndex.register(
    createBuildIndexRoutes({
      backend: buildIndexBackend,
      origin: originClient,
      logger,
      metrics: createMetrics('build_index_routes', { defaultMetrics: false }),
    }),
  );
  const buildIndexUrl = await buildIndex.listen({ host: '127.0.0.1', port: 0 });

  return {
    dir,
    originUrl,
    buildIndexUrl,
    async close() {
      await Promise.all([origin.close(), buildIndex.close()]);
      await originClient.close();
      await Promise.all([originBackend.close(), buildIndexBackend.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

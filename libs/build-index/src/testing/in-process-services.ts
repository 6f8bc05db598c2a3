/**
 * An origin and a build-index running in this process on ephemeral loopback ports,
 * with filesystem storage under a temporary directory: the backing services that
 * proxy and agent tests talk to over real HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpServer, createMetrics, silentLogger } from '@kraken/service-kit';
import { createFilesystemBackend } from '@kraken/storage-backends';
import { createBuildIndexRoutes } from '../api/routes.js';
import { createOriginClient } from '@kraken/origin';
import { startInProcessOrigin } from '@kraken/origin/testing';

export interface InProcessServices {
  readonly dir: string;
  readonly originUrl: string;
  readonly buildIndexUrl: string;
  close(): Promise<void>;
}

export async function startInProcessServices(): Promise<InProcessServices> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-services-'));
  const logger = silentLogger();

  const origin = await startInProcessOrigin({ dir });
  const originUrl = origin.url;

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
      await buildIndexBackend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

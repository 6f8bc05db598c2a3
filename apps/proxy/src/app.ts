/**
 * The proxy: the push side of the registry. It serves the OCI Distribution API
 * read-write, writing blobs and manifests to the origins and tags to the build-index.
 */
import { createBuildIndexClient, createOriginClient, createProxyRegistryStore } from '@kraken/internal-api';
import { createFsUploadStore, registryApi } from '@kraken/registry-api';
import { createHttpServer, createMetrics, type Logger } from '@kraken/service-kit';
import type { Config } from './config.js';

export interface App {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Base URL once started. */
  readonly url: string;
}

export function createApp(config: Config, deps: { logger: Logger }): App {
  const metrics = createMetrics('proxy');
  const origin = createOriginClient({ url: config.origin.url });
  const buildIndex = createBuildIndexClient({ url: config.buildIndex.url });
  const uploads = createFsUploadStore({ ...config.registry.uploads, logger: deps.logger });
  const server = createHttpServer({
    logger: deps.logger,
    metrics,
    readinessChecks: [
      { name: 'origin', check: (signal) => origin.ping(signal) },
      { name: 'build-index', check: (signal) => buildIndex.ping(signal) },
    ],
  });
  server.register(registryApi, {
    store: createProxyRegistryStore({
      origin,
      buildIndex,
      cacheTtlMs: config.cache.ttlSeconds * 1000,
      manifestCacheBytes: config.cache.manifestBytes,
    }),
    uploads,
    limits: config.registry.limits,
    logger: deps.logger,
    metrics,
  });

  let url = '';
  let closing: Promise<void> | undefined;
  return {
    async start() {
      uploads.start();
      url = await server.listen({ host: config.listen.host, port: config.listen.port });
    },
    close() {
      closing ??= (async () => {
        await server.close();
        await uploads.close();
        await Promise.all([origin.close(), buildIndex.close()]);
      })();
      return closing;
    },
    get url() {
      return url;
    },
  };
}

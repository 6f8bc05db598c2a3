/**
 * The proxy: the push side of the registry. It serves the OCI Distribution API
 * read-write, writing blobs and manifests to the origins and tags to the build-index.
 */
import { createLiveRing } from '@kraken/hashring';
import { createBuildIndexClusterClient } from '@kraken/build-index';
import { createOriginRingClient } from '@kraken/origin';
import { createProxyRegistryStore } from './registry-store.js';
import { createFsUploadStore, createRegistryAuth, registryApi } from '@kraken/registry-api';
import {
  createClientTls,
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
} from '@kraken/service-kit';
import { createContentCache } from '@kraken/storage-backends';
import type { Config } from './config.js';

export type App = ServiceApp;

export function createApp(config: Config, deps: { logger: Logger }): App {
  const metrics = createMetrics('proxy');
  // Its certificate is the identity the origins and the build-index let write.
  const clientTls = createClientTls(config.tls.client, { logger: deps.logger });
  const originRing = createLiveRing(config.origins, { logger: deps.logger, tls: clientTls });
  const origin = createOriginRingClient({ ring: originRing, tls: clientTls });
  const buildIndexRing = createLiveRing(config.buildIndex, { logger: deps.logger, tls: clientTls });
  const buildIndex = createBuildIndexClusterClient({ ring: buildIndexRing, tls: clientTls });
  const uploads = createFsUploadStore({ ...config.registry.uploads, logger: deps.logger });
  const blobCache =
    config.cache.blobBytes > 0
      ? createContentCache({ root: config.cache.blobDir, maxBytes: config.cache.blobBytes, metrics })
      : undefined;
  // Off unless configured: then every request needs credentials (see auth in the config docs).
  const auth = createRegistryAuth(config.auth, { logger: deps.logger, metrics });
  const server = createHttpServer({
    logger: deps.logger,
    metrics,
    tls: config.tls.server,
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
      ...(blobCache === undefined ? {} : { blobCache }),
      onCacheError: (err) => deps.logger.warn({ err }, 'blob cache'),
    }),
    uploads,
    limits: config.registry.limits,
    logger: deps.logger,
    metrics,
    ...(auth === undefined ? {} : { authorize: auth.authorize }),
  });

  return createServiceApp({
    component: 'proxy',
    server,
    listen: config.listen,
    logger: deps.logger,
    describe: {
      origins: originRing.members().map((node) => node.url),
      buildIndex: buildIndexRing.members().map((node) => node.url),
      auth: auth !== undefined,
    },
    beforeListen: async () => {
      await auth?.start();
      await originRing.start();
      await buildIndexRing.start();
      await blobCache?.start();
      uploads.start();
    },
    afterClose: async () => {
      auth?.close();
      await uploads.close();
      await blobCache?.close();
      await Promise.all([origin.close(), buildIndex.close()]);
      originRing.close();
      buildIndexRing.close();
      clientTls.close();
    },
  });
}

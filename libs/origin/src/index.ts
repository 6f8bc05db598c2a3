/**
 * @kraken/origin: the origin's domain. The content-addressed blob store with
 * read-through and write-back (store/), the /v1/ blob and upload API (api/), piece
 * metainfo (metainfo/), replication among the origins of a digest (replication/),
 * and the clients every other component reaches the origin ring with (client/).
 */
export { originLimitsSchema } from './api/limits.js';
export { createOriginRoutes } from './api/routes.js';
export { originRouteContracts } from './api/route-contracts.js';
export type { OriginClient } from './client/client-types.js';
export { createOriginClient } from './client/origin-client.js';
export { createOriginRingClient } from './client/ring-client.js';
export { originRingSchema } from './client/ring-config.js';
export type { OriginRingConfig } from './client/ring-config.js';
export { UploadOutOfOrderError } from './errors.js';
export { createOriginMetainfo } from './metainfo/origin-metainfo.js';
export { originReplicationSchema } from './replication/replication-config.js';
export { createOriginReplication } from './replication/replication.js';
export { createOriginBlobStore } from './store/blob-store.js';
export type { OriginBlobStore } from './store/blob-store.js';
export { originCacheSchema, writeBackSchema } from './store/store-config.js';
export { createOriginStorage } from './store/origin-storage.js';
export type { OriginStorage, OriginStorageConfig, OriginStorageDeps } from './store/origin-storage.js';
export type { OriginRoutesOptions, StoredBlobEvent } from './api/routes.js';
export type { OriginClientOptions } from './client/origin-client.js';
export type { OriginRingClient, OriginRingClientOptions } from './client/ring-client.js';
export { createOriginUpstreams } from './upstream/origin-upstreams.js';
export type { OriginUpstreams, OriginUpstreamsDeps } from './upstream/origin-upstreams.js';
export { originUpstreamsSchema, originUpstreamSchema } from './upstream/upstream-config.js';
export type { OriginUpstreamConfig } from './upstream/upstream-config.js';
export type { UpstreamRef, UpstreamTag, UpstreamKind } from './upstream/upstream-ref.js';
export type { OriginUpstreamClient } from './client/client-types.js';
export type { UpstreamReads } from './api/routes.js';

/**
 * The agent's mirrored registries, assembled from config: one MirrorStore per upstream,
 * looked up by the registry API's `mirrors` hook, and the status they share.
 */
import type { AgentMirrorConfig } from '@kraken/component-configs';
import type { Clock } from '@kraken/foundation';
import type { OriginUpstreamClient } from '@kraken/origin';
import type { Metrics } from '@kraken/service-kit';
import type { ContentCache } from '@kraken/storage-backends';
import type { ContentFetch } from '../content-fetch.js';
import { createMirrorStatus, type MirrorStatus } from './mirror-status.js';
import { createMirrorStore, type MirrorStore } from './mirror-store.js';

export interface Mirrors {
  /** The store of a mirrored registry; undefined for any other. */
  storeFor(registry: string): MirrorStore | undefined;
  readonly status: MirrorStatus;
  tagsCached(registry: string): number;
}

export function createMirrors(
  config: AgentMirrorConfig,
  deps: {
    content: ContentFetch;
    cache: Pick<ContentCache, 'read'>;
    origin: Pick<OriginUpstreamClient, 'resolveUpstreamTag'>;
    clock: Pick<Clock, 'now'>;
    metrics?: Metrics;
  },
): Mirrors {
  const status = createMirrorStatus(
    config.upstreams.map((u) => u.name),
    deps.metrics,
  );
  const stores = new Map(
    config.upstreams.map((upstream) => [
      upstream.name,
      createMirrorStore({
        registry: upstream.name,
        content: deps.content,
        cache: deps.cache,
        origin: deps.origin,
        tagTtlMs: upstream.tagTtlSeconds * 1000,
        staleIfErrorMs: config.staleIfErrorSeconds * 1000,
        clock: deps.clock,
        status,
      }),
    ]),
  );
  return {
    storeFor: (registry) => stores.get(registry),
    status,
    tagsCached: (registry) => stores.get(registry)?.tagsCached() ?? 0,
  };
}

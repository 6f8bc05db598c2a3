/**
 * The upstream registries of an origin, assembled from config: per upstream a
 * read-only registry backend (auth, redirects, retries and timeouts come with it) and a
 * tag resolver. Content is read through the origin's cache with `source(ref)`, so a
 * digest many agents want at once is fetched from the upstream once and verified.
 */
import { systemClock, type Clock } from '@kraken/foundation';
import type { Metrics } from '@kraken/service-kit';
import {
  blobKey,
  createRegistryBackend,
  createResilientBackend,
  manifestKey,
  type NamespaceAwareBackend,
  type StorageBackend,
} from '@kraken/storage-backends';
import type { FillSource } from '../store/blob-fill.js';
import { UpstreamTagNotFoundError, UpstreamUnknownError } from '../errors.js';
import type { OriginUpstreamConfig } from './upstream-config.js';
import { readUpstreamCredentials } from './upstream-credentials.js';
import type { UpstreamRef, UpstreamTag } from './upstream-ref.js';
import { createTagResolver, type TagResolver } from './tag-resolver.js';

export interface OriginUpstreams {
  /** Registry hosts of the configured upstreams. */
  readonly names: readonly string[];
  /** Where a fill of `ref`'s content reads from; throws UpstreamUnknownError. */
  source(ref: UpstreamRef): FillSource;
  /** The tag's digest; throws UpstreamTagNotFoundError, UpstreamUnknownError or UpstreamUnavailableError. */
  resolveTag(registry: string, repository: string, tag: string): Promise<UpstreamTag>;
  close(): Promise<void>;
}

export interface OriginUpstreamsDeps {
  readonly metrics?: Metrics;
  readonly clock?: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
  /** Builds the backend of one upstream; tests inject their own. */
  readonly backendFor?: (config: OriginUpstreamConfig) => NamespaceAwareBackend;
}

interface Upstream {
  readonly backend: NamespaceAwareBackend;
  readonly tags: TagResolver;
}

export function createOriginUpstreams(
  configs: readonly OriginUpstreamConfig[],
  deps: OriginUpstreamsDeps = {},
): OriginUpstreams {
  const clock = deps.clock ?? systemClock;
  const lookups = deps.metrics?.counter(
    'upstream_tag_lookups_total',
    'Tag lookups for agents by upstream and result: cached, fetched, stale (upstream failing), not_found, error.',
    ['upstream', 'result'],
  );
  const upstreams = new Map<string, Upstream>();
  for (const config of configs) {
    const backend = deps.backendFor?.(config) ?? buildBackend(config, deps.metrics);
    const tags = createTagResolver({
      registry: config.name,
      backend,
      cacheMs: config.tagCacheSeconds * 1000,
      staleIfErrorMs: config.staleIfErrorSeconds * 1000,
      clock,
      onLookup: (result) => lookups?.inc({ upstream: config.name, result }),
    });
    upstreams.set(config.name, { backend, tags });
  }
  const get = (registry: string): Upstream => {
    const upstream = upstreams.get(registry);
    if (upstream === undefined) throw new UpstreamUnknownError(registry);
    return upstream;
  };

  return {
    names: [...upstreams.keys()],

    source(ref) {
      const view: StorageBackend = get(ref.registry).backend.forNamespace(ref.repository);
      const keyOf = ref.kind === 'manifest' ? manifestKey : blobKey;
      return {
        name: `${ref.registry}/${ref.repository}`,
        stat: async (digest) => {
          const stat = await view.stat(keyOf(digest));
          return stat === undefined ? undefined : { size: stat.size };
        },
        read: (digest, range) => view.read(keyOf(digest), range),
      };
    },

    async resolveTag(registry, repository, tag) {
      const answer = await get(registry).tags.resolve(repository, tag);
      if (answer === undefined) throw new UpstreamTagNotFoundError(registry, repository, tag);
      return answer;
    },

    async close() {
      await Promise.all([...upstreams.values()].map((u) => u.backend.close()));
    },
  };
}

function buildBackend(config: OriginUpstreamConfig, metrics: Metrics | undefined): NamespaceAwareBackend {
  const registry = createRegistryBackend({
    url: config.url,
    name: `upstream:${config.name}`,
    ...(config.credentialsFile === undefined
      ? {}
      : { credentials: readUpstreamCredentials(config.credentialsFile) }),
  });
  return createResilientBackend({
    backend: registry,
    config: config.resilience,
    ...(metrics === undefined ? {} : { metrics }),
  }) as NamespaceAwareBackend;
}
